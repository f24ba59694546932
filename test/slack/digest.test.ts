import { afterEach, describe, expect, it, vi } from 'vitest';
import { DigestGate, type DigestBatch } from '../../slack/digest.js';
import { systemClock } from '../../shared/clock.js';

describe('the digest window', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function gate(threshold = 3, windowMs = 60_000) {
    const batches: Array<DigestBatch<number>> = [];
    return { gate: new DigestGate<number>({ threshold, windowMs }, systemClock, (b) => batches.push(b)), batches };
  }

  it('passes events up to the threshold and hands back the rest of the window as one batch', () => {
    vi.useFakeTimers();
    const { gate: g, batches } = gate(3);
    const answers = Array.from({ length: 17 }, (_, i) => g.offer('#users\u0000user.signup', i));
    expect(answers.filter((a) => a === 'pass')).toHaveLength(3);
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(60_000);
    expect(batches).toEqual([{ key: '#users\u0000user.signup', held: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], total: 17 }]);
  });

  it('keeps collecting while the burst goes on, and lets single events through once it is over', () => {
    vi.useFakeTimers();
    const { gate: g, batches } = gate(2, 1000);
    for (let i = 0; i < 5; i++) g.offer('k', i);
    vi.advanceTimersByTime(1000);
    // The burst continues into the next window: everything is collected.
    expect(g.offer('k', 5)).toBe('held');
    expect(g.offer('k', 6)).toBe('held');
    vi.advanceTimersByTime(1000);
    expect(batches.map((b) => b.held)).toEqual([[2, 3, 4], [5, 6]]);
    // That window stayed at the threshold: the next one starts fresh.
    vi.advanceTimersByTime(1000);
    expect(g.offer('k', 7)).toBe('pass');
  });

  it('counts each channel and type on its own', () => {
    vi.useFakeTimers();
    const { gate: g } = gate(1);
    expect(g.offer('#a\u0000user.signup', 1)).toBe('pass');
    expect(g.offer('#b\u0000user.signup', 2)).toBe('pass');
    expect(g.offer('#a\u0000payment.succeeded', 3)).toBe('pass');
    expect(g.offer('#a\u0000user.signup', 4)).toBe('held');
  });

  it('is off with a threshold of 0', () => {
    const { gate: g } = gate(0);
    for (let i = 0; i < 100; i++) expect(g.offer('k', i)).toBe('pass');
  });

  it('forgets its windows on stop, with no timer left behind', () => {
    vi.useFakeTimers();
    const { gate: g, batches } = gate(1);
    g.offer('k', 1);
    g.offer('k', 2);
    g.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120_000);
    expect(batches).toHaveLength(0);
  });
});
