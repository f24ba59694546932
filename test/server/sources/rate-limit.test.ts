import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../server/sources/rate-limit.js';

function fakeClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('the per-client rate limiter', () => {
  it('lets a client send its allowance, then tells it how long to wait', () => {
    const limiter = new RateLimiter(6, fakeClock());
    for (let i = 0; i < 6; i++) expect(limiter.take('203.0.113.7').ok).toBe(true);
    expect(limiter.take('203.0.113.7')).toEqual({ ok: false, retryAfterSeconds: 10 });
  });

  it('refills over time and counts each client on its own', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(6, clock);
    for (let i = 0; i < 6; i++) limiter.take('a');
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true);
    clock.advance(10_000);
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
  });

  it('keeps memory bounded by forgetting the least recently seen client', () => {
    const limiter = new RateLimiter(1, fakeClock(), 3);
    for (const c of ['a', 'b', 'c', 'd']) limiter.take(c);
    expect(limiter.clients).toBe(3);
    // "a" was forgotten, so it starts again with a full bucket.
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('d').ok).toBe(false);
  });
});
