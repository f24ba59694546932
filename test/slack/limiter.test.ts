import { describe, expect, it } from 'vitest';
import { ChannelLimiter } from '../../slack/limiter.js';

describe('the per-channel limiter', () => {
  it('lets a short burst through, then one message per interval', () => {
    const limiter = new ChannelLimiter({ intervalMs: 1000, burst: 3 }, 0);
    const sent: number[] = [];
    let now = 0;
    while (sent.length < 6) {
      const wait = limiter.delay(now);
      if (wait > 0) {
        now += wait;
        continue;
      }
      limiter.take(now);
      sent.push(now);
    }
    expect(sent).toEqual([0, 0, 0, 1000, 2000, 3000]);
  });

  it('waits out a Retry-After before the next message', () => {
    const limiter = new ChannelLimiter({ intervalMs: 1000, burst: 3 }, 0);
    limiter.take(0);
    limiter.pause(0, 30_000);
    expect(limiter.delay(0)).toBe(30_000);
    expect(limiter.delay(29_999)).toBe(1);
    expect(limiter.delay(30_000)).toBe(0);
  });

  it('never shortens a pause that is already longer', () => {
    const limiter = new ChannelLimiter({ intervalMs: 10, burst: 1 }, 0);
    limiter.pause(0, 5000);
    limiter.pause(0, 100);
    expect(limiter.delay(0)).toBe(5000);
  });
});
