// The dry run under a flood: the default deployment without a bot token must not print (and
// pay for) a line per event at hundreds of events a second.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DryRunSlackApi } from '../../slack/dry-run.js';

describe('the dry run', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-11-25T12:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('prints each post while they are few', async () => {
    const lines: string[] = [];
    const api = new DryRunSlackApi((line) => lines.push(line));
    for (let i = 0; i < 3; i++) {
      await api.postMessage({ channel: '#bellhop', text: `signup ${i} &amp; more`, blocks: [] });
      vi.advanceTimersByTime(1000);
    }
    await api.update({ channel: '#bellhop', ts: '1.000001', text: 'rang', blocks: [] });
    vi.advanceTimersByTime(10_000);
    expect(lines).toEqual([
      'slack (dry run) would post to #bellhop: signup 0 & more',
      'slack (dry run) would post to #bellhop: signup 1 & more',
      'slack (dry run) would post to #bellhop: signup 2 & more',
      'slack (dry run) would update the message in #bellhop: rang',
    ]);
  });

  it('prints the first posts of a flood, then how many more there were in the last 5 s', async () => {
    const lines: string[] = [];
    const api = new DryRunSlackApi((line) => lines.push(line));
    const answers = [];
    for (let i = 0; i < 1244; i++) answers.push(await api.postMessage({ channel: '#bellhop', text: `signup ${i}`, blocks: [] }));
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toBe('slack (dry run) would post to #bellhop: signup 9');
    // Counted, not dropped: every post is still answered as posted, each with its own ts.
    expect(new Set(answers.map((a) => a.ts)).size).toBe(1244);
    vi.advanceTimersByTime(5000);
    expect(lines.at(-1)).toBe('slack (dry run) … and 1,234 more posts and updates in the last 5 s');
    expect(lines).toHaveLength(11);
  });
});
