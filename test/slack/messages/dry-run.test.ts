// The dry run prints the notification text Slack would get, for every fixture message.
import { describe, expect, it } from 'vitest';
import { DryRunSlackApi } from '../../../slack/dry-run.js';
import { renderEvent } from '../../../slack/render.js';
import { fixtureEvents } from './fixture-events.js';

describe('the dry run', () => {
  it('prints the same first line that is posted, unescaped', async () => {
    const lines: string[] = [];
    // Every fixture at once, faster than a flood: the budget that sums floods up is test/slack/dry-run.test.ts's.
    const api = new DryRunSlackApi((line) => lines.push(line), { perSecond: Infinity });
    const events = fixtureEvents().flatMap((f) => (f.event ? [f.event] : []));
    for (const event of events) {
      const message = renderEvent({ event, rangs: [] });
      await api.postMessage({ channel: '#bellhop', ...message });
      const printed = lines.at(-1)!;
      expect(printed).toBe(`slack (dry run) would post to #bellhop: ${message.text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')}`);
      expect(printed).not.toMatch(/<!date|&amp;|&lt;/);
    }
    expect(lines.some((l) => l.includes('Upgrade: Starter €49/mo → Pro €199/mo'))).toBe(true);
  });
});
