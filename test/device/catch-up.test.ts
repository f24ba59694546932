import { describe, expect, it } from 'vitest';
import { CatchUp } from '../../device/catch-up.js';
import type { Clock } from '../../shared/clock.js';
import { parseConfig } from '../../shared/config/load.js';

function setup(raw: Record<string, unknown> = {}) {
  let now = Date.parse('2026-11-25T10:00:00Z');
  const clock: Clock = {
    now: () => now,
    setTimeout: () => {
      throw new Error('catch-up needs no timers');
    },
    clearTimeout: () => undefined,
  };
  const catchUp = new CatchUp(parseConfig({ device: { catchUp: raw } }).device.catchUp, clock);
  return { catchUp, advance: (ms: number) => (now += ms) };
}

describe('the catch-up policy', () => {
  it('leaves events that arrive fresh alone', () => {
    const { catchUp } = setup({ maxAgeSeconds: 30 });
    expect(catchUp.judge(0)).toBe('live');
    expect(catchUp.judge(30_000)).toBe('live');
  });

  it('"once": one strike for a whole backlog of late events, however long it is', () => {
    const { catchUp, advance } = setup({ policy: 'once', maxAgeSeconds: 30, windowSeconds: 10 });
    const verdicts = [];
    for (let i = 0; i < 50; i++) {
      verdicts.push(catchUp.judge(120_000));
      advance(500); // 25 s of backlog in all: each late event keeps it open
    }
    expect(verdicts.filter((v) => v === 'ring-once')).toHaveLength(1);
    expect(verdicts[0]).toBe('ring-once');
    expect(verdicts.slice(1).every((v) => v === 'caught-up')).toBe(true);
    expect(catchUp.backlog).toBe(50);
  });

  it('"once": a later backlog (after the window closed) gets its own strike', () => {
    const { catchUp, advance } = setup({ policy: 'once', windowSeconds: 10 });
    expect(catchUp.judge(60_000)).toBe('ring-once');
    advance(10_000);
    expect(catchUp.judge(60_000)).toBe('ring-once');
  });

  it('"once": fresh events during a backlog still ring as usual', () => {
    const { catchUp } = setup({ policy: 'once' });
    expect(catchUp.judge(60_000)).toBe('ring-once');
    expect(catchUp.judge(1_000)).toBe('live');
    expect(catchUp.judge(60_000)).toBe('caught-up');
  });

  it('"skip": late events do not ring at all', () => {
    const { catchUp } = setup({ policy: 'skip', maxAgeSeconds: 30 });
    expect(catchUp.judge(31_000)).toBe('skip');
    expect(catchUp.judge(29_000)).toBe('live');
  });
});
