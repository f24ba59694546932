import { describe, expect, it } from 'vitest';
import { PrintBudget } from '../../shared/print-budget.js';
import type { Clock } from '../../shared/clock.js';

/** A clock that only moves when told to, firing due timers as it passes them. */
function manualClock(): Clock & { advance: (ms: number) => void } {
  let now = 0;
  const timers = new Map<NodeJS.Timeout, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const handle = { unref: () => handle } as unknown as NodeJS.Timeout;
      timers.set(handle, { at: now + ms, fn });
      return handle;
    },
    clearTimeout: (h) => void timers.delete(h),
    advance: (ms) => {
      now += ms;
      for (const [h, t] of [...timers]) {
        if (t.at > now) continue;
        timers.delete(h);
        t.fn();
      }
    },
  };
}

describe('a print budget', () => {
  it('prints every line while they come slower than its rate', () => {
    const clock = manualClock();
    const lines: string[] = [];
    const budget = new PrintBudget((l) => lines.push(l), { what: 'posts', perSecond: 3, clock });
    for (let i = 0; i < 6; i++) {
      budget.line(`post ${i}`);
      clock.advance(400);
    }
    clock.advance(10_000);
    expect(lines).toEqual(['post 0', 'post 1', 'post 2', 'post 3', 'post 4', 'post 5']);
  });

  it('prints the first lines of each second, then one summary of the rest after summaryMs', () => {
    const clock = manualClock();
    const lines: string[] = [];
    const budget = new PrintBudget((l) => lines.push(l), { what: 'posts', prefix: 'slack (dry run) ', perSecond: 2, summaryMs: 5000, clock });
    for (let i = 0; i < 1236; i++) budget.line(`post ${i}`);
    expect(lines).toEqual(['post 0', 'post 1']);
    clock.advance(1000);
    budget.line('post a second later');
    clock.advance(4000);
    expect(lines).toEqual(['post 0', 'post 1', 'post a second later', 'slack (dry run) … and 1,234 more posts in the last 5 s']);
    // Counted afresh after a summary.
    clock.advance(5000);
    expect(lines).toHaveLength(4);
  });

  it('does not build a line it only counts', () => {
    const clock = manualClock();
    let built = 0;
    const budget = new PrintBudget(() => undefined, { what: 'rings', perSecond: 1, clock });
    for (let i = 0; i < 100; i++) budget.line(() => `ring ${++built}`);
    expect(built).toBe(1);
  });

  it('says what it counted so far when flushed early, and nothing when there was nothing', () => {
    const clock = manualClock();
    const lines: string[] = [];
    const budget = new PrintBudget((l) => lines.push(l), { what: 'rings', perSecond: 1, clock });
    budget.flush();
    budget.line('one');
    budget.line('two');
    budget.line('three');
    clock.advance(2000);
    budget.flush();
    expect(lines).toEqual(['one', '… and 2 more rings in the last 2 s']);
    clock.advance(10_000);
    expect(lines).toHaveLength(2);
  });
});
