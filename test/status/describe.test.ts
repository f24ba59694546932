import { describe, expect, it } from 'vitest';
import { deliveryStep, rangStep } from '../../server/status/describe.js';

const now = new Date('2025-03-01T12:00:00.000Z');
const base = { eventId: 'e1', deviceId: 'office-bell', type: 'user.signup', at: '2025-03-01T12:00:01.000Z' };

describe('trace step wording', () => {
  it('says how many strikes a bell struck', () => {
    expect(rangStep({ ...base, strikes: 2 }, now)).toMatchObject({ outcome: 'ok', text: 'rang office-bell (2 strikes)', strikes: 2 });
  });

  it('says why a bell stayed silent, also for reasons added after this server was built', () => {
    expect(rangStep({ ...base, strikes: 0, suppressed: 'rate-cap' }, now).text).toBe('office-bell did not ring: rate cap reached (coalesced into one later strike)');
    expect(rangStep({ ...base, strikes: 0, suppressed: 'quiet' }, now).text).toBe('office-bell did not ring: quiet hours');
    expect(rangStep({ ...base, strikes: 0, suppressed: 'muted' }, now).text).toBe('office-bell did not ring: muted');
    expect(rangStep({ ...base, strikes: 0, suppressed: 'caught-up' }, now).text).toBe(
      'office-bell did not ring: covered by the one strike for events that waited while the bell was offline',
    );
    expect(rangStep({ ...base, strikes: 0, suppressed: 'battery-low' }, now)).toMatchObject({ outcome: 'warn', text: 'office-bell did not ring: battery-low' });
  });

  it('says a ring was cut short by the rate cap', () => {
    expect(rangStep({ ...base, strikes: 1, suppressed: 'rate-cap' }, now).text).toBe('rang office-bell (1 strike), then held back: rate cap reached (coalesced into one later strike)');
  });

  it('uses the time it saw a report when the report carries no readable time', () => {
    expect(rangStep({ ...base, strikes: 1, at: 'yesterday-ish' }, now).at).toBe(now.toISOString());
  });

  it('describes each Slack delivery status, with the channel, link and error', () => {
    const at = '2025-03-01T12:00:02.000Z';
    expect(deliveryStep({ eventId: 'e1', status: 'posted', channel: '#sales', permalink: 'https://acme.slack.com/archives/C1/p1', at }, now)).toMatchObject({
      outcome: 'ok',
      text: 'posted to Slack #sales',
      channel: '#sales',
      permalink: 'https://acme.slack.com/archives/C1/p1',
      delivery: 'posted',
    });
    expect(deliveryStep({ eventId: 'e1', status: 'digested', channel: '#ops', at }, now)).toMatchObject({ outcome: 'warn', text: 'went into the Slack digest #ops' });
    // A sink without a bot token posted nothing: the trace must not say it did.
    expect(deliveryStep({ eventId: 'e1', status: 'posted', channel: '#bellhop', dryRun: true, at }, now)).toMatchObject({
      outcome: 'warn',
      text: 'dry run (no SLACK_BOT_TOKEN): would post to #bellhop',
      delivery: 'dry run: posted',
    });
    expect(deliveryStep({ eventId: 'e1', status: 'retrying', error: 'ratelimited', at }, now)).toMatchObject({ outcome: 'warn', text: 'Slack post failed, will retry: ratelimited' });
    expect(deliveryStep({ eventId: 'e1', status: 'failed', error: 'channel_not_found', at }, now)).toMatchObject({ outcome: 'fail', text: 'Slack post failed: channel_not_found' });
    expect(deliveryStep({ eventId: 'e1', status: 'dropped', at }, now).text).toBe('not posted to Slack: dropped by a rule');
    expect(deliveryStep({ eventId: 'e1', status: 'snoozed', at }, now)).toMatchObject({ outcome: 'warn', text: 'Slack: snoozed' });
  });

  it('never passes on a link that is not a web address', () => {
    const step = deliveryStep({ eventId: 'e1', status: 'posted', permalink: 'javascript:alert(1)', at: now.toISOString() }, now);
    expect(step.permalink).toBeUndefined();
  });

  it('cuts very long error texts so memory stays bounded', () => {
    const step = deliveryStep({ eventId: 'e1', status: 'failed', error: 'x'.repeat(10_000), at: now.toISOString() }, now);
    expect(step.error!.length).toBeLessThanOrEqual(500);
  });
});
