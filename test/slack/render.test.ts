import { describe, expect, it } from 'vitest';
import type { KnownBlock } from '@slack/web-api';
import { mrkdwn } from '../../slack/escape.js';
import { humanizeWindow, renderDigest, renderEvent, renderReply } from '../../slack/render.js';
import { toEnvelope, type EventInput } from '../../shared/envelope.js';

const event = (input: Partial<EventInput> & { type: string }) =>
  toEnvelope(input as EventInput, { source: 'shop', now: () => new Date('2026-03-04T10:32:05Z') });

function block<T extends KnownBlock['type']>(blocks: KnownBlock[], type: T, nth = 0): Extract<KnownBlock, { type: T }> {
  const found = blocks.filter((b) => b.type === type)[nth];
  if (!found) throw new Error(`no ${type} block #${nth}`);
  return found as Extract<KnownBlock, { type: T }>;
}

describe('escaping for mrkdwn', () => {
  it('turns &, < and > into entities and leaves everything else', () => {
    expect(mrkdwn('Tom & Jerry <3 > *you*')).toBe('Tom &amp; Jerry &lt;3 &gt; *you*');
    // Ampersands first, so an entity in the input is shown as typed, not decoded.
    expect(mrkdwn('&lt;')).toBe('&amp;lt;');
  });

  it('keeps mentions and links in event data from becoming real ones', () => {
    const message = renderEvent({
      event: event({ type: 'user.signup', subject: '<!channel> ping', data: { message: 'see <https://evil.example|your bank>', name: 'A & B <ops@x>' } }),
      rangs: [],
    });
    const text = JSON.stringify(message.blocks) + message.text;
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil.example');
    expect(block(message.blocks, 'section').text?.text).toBe(
      ':wave: A new customer signed up: A &amp; B &lt;ops@x&gt; — &lt;!channel&gt; ping\nsee &lt;https://evil.example|your bank&gt;',
    );
    expect(message.text).toContain('&lt;!channel&gt;');
  });

  it('does not escape plain_text (headers, button labels), which Slack shows as is', () => {
    const message = renderEvent({
      event: event({ type: 'deploy.succeeded', data: { service: 'R&D <api>', links: [{ label: 'Logs & <metrics>', url: 'https://ci.example.com/1?a=1&b=2' }] } }),
      rangs: [],
    });
    expect(block(message.blocks, 'header').text.text).toBe(':large_blue_circle: Deployed R&D <api>');
    const button = block(message.blocks, 'actions').elements[0] as { text: { type: string; text: string }; url: string };
    expect(button.text).toEqual({ type: 'plain_text', text: 'Logs & <metrics>', emoji: true });
    expect(button.url).toBe('https://ci.example.com/1?a=1&b=2');
  });
});

describe('the Block Kit message for an event', () => {
  it('has a header that says what happened, a first line with who and how much, fields, a context line and link buttons', () => {
    const message = renderEvent({
      event: event({
        type: 'payment.failed',
        severity: 'error',
        project: 'shop',
        data: {
          amount: 2900,
          currency: 'usd',
          customerName: 'Ana Li',
          customerEmail: 'ana@example.com',
          customer: 'cus_42',
          invoice: 'in_1',
          invoiceNumber: 'INV-0042',
          attempt: 1,
          nextRetryAt: '2025-05-30T09:00:00Z',
          plan: 'Pro',
          links: [{ label: 'View invoice', url: 'https://dashboard.stripe.com/invoices/in_1' }, { label: 'bad', url: 'javascript:alert(1)' }],
        },
      }),
      rangs: [],
    });
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context', 'actions']);
    expect(block(message.blocks, 'header').text).toEqual({ type: 'plain_text', text: ':red_circle: Payment failed: $29.00', emoji: true });
    expect(block(message.blocks, 'section').text?.text).toBe(
      ':credit_card: Payment failed: $29.00 from Ana Li (ana@example.com) — invoice INV-0042, attempt 1, next retry <!date^1748595600^{date_short_pretty} {time}|Fri 30 May 2025, 09:00 UTC>',
    );
    expect(block(message.blocks, 'section', 1).fields).toEqual([
      { type: 'mrkdwn', text: '*Next retry*\n<!date^1748595600^{date_short_pretty} {time}|Fri 30 May 2025, 09:00 UTC>' },
      { type: 'mrkdwn', text: '*Plan*\nPro' },
    ]);
    const context = JSON.stringify(block(message.blocks, 'context'));
    expect(context).toContain('project shop');
    expect(context).toContain('<!date^1772620325^');
    // The id goes to the small print once a name stands in the first line.
    expect(context).toContain('cus_42');
    // Only http(s) links become buttons.
    expect(block(message.blocks, 'actions').elements).toHaveLength(1);
    expect(message.text).toBe(':red_circle: Payment failed: $29.00 from Ana Li (ana@example.com) — invoice INV-0042, attempt 1, next retry Fri 30 May 2025, 09:00 UTC');
  });

  it('keeps the sign-up line people know', () => {
    const message = renderEvent({ event: event({ type: 'user.signup', subject: 'a@example.com' }), rangs: [] });
    expect(message.text).toBe(':large_blue_circle: A new customer signed up: a@example.com');
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  });

  it('looks different per severity', () => {
    const headers = (['critical', 'error', 'warning', 'info'] as const).map(
      (severity) => block(renderEvent({ event: event({ type: 'error.raised', severity, subject: 'DB down' }), rangs: [] }).blocks, 'header').text.text,
    );
    expect(new Set(headers.map((h) => h.split(' ')[0])).size).toBe(4);
    expect(headers[0]).toBe(':rotating_light: CRITICAL: DB down');
  });

  it('uses the type\'s template for the title, the body and the fields, labelled for people', () => {
    const message = renderEvent(
      { event: event({ type: 'user.signup', data: { email: 'a@example.com', plan: 'pro', utm: 'x&y' } }), rangs: [] },
      { title: 'New signup: {data.email}', text: 'Plan *{data.plan}* <via {data.utm}>', fields: ['plan', { label: 'Came from', value: '{data.utm}' }] },
    );
    expect(block(message.blocks, 'header').text.text).toBe(':large_blue_circle: New signup: a@example.com');
    expect(block(message.blocks, 'section').text?.text).toBe('Plan *pro* <via x&amp;y>');
    expect(block(message.blocks, 'section', 1).fields).toEqual([
      { type: 'mrkdwn', text: '*Plan*\npro' },
      { type: 'mrkdwn', text: '*Came from*\nx&amp;y' },
    ]);
    expect(message.text).toBe(':large_blue_circle: New signup: a@example.com: Plan *pro* &lt;via x&amp;y&gt;');
  });

  it('shows which bells rang for it, in a context line', () => {
    const message = renderEvent({ event: event({ type: 'user.signup' }), rangs: [{ deviceId: 'office-bell', at: '2026-03-04T10:32:06Z', strikes: 1 }] });
    expect(JSON.stringify(block(message.blocks, 'context', 1))).toContain(':bell: rang office-bell <!date^1772620326^{time_secs}|10:32:06 UTC>');
    expect(message.text).toContain('rang office-bell 10:32:06 UTC');
  });

  it('keeps within Slack\'s size limits', () => {
    const long = 'x'.repeat(5000);
    const data = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, long]));
    const message = renderEvent({ event: event({ type: 'app.thing_happened', subject: long, data }), rangs: [] }, { title: long, fields: Object.keys(data) });
    expect(block(message.blocks, 'header').text.text.length).toBeLessThanOrEqual(150);
    expect(block(message.blocks, 'section').text!.text.length).toBeLessThanOrEqual(3000);
    const fields = block(message.blocks, 'section', 1).fields ?? [];
    expect(fields).toHaveLength(10);
    for (const f of fields) expect(f.text.length).toBeLessThanOrEqual(2000);
    expect(message.text.length).toBeLessThanOrEqual(3000);
  });
});

describe('digests and thread replies', () => {
  it('sums up a burst in one message with the list', () => {
    const events = Array.from({ length: 25 }, (_, i) => event({ type: 'user.signup', subject: `user${i}@example.com` }));
    const message = renderDigest({ type: 'user.signup', events, windowMs: 60_000, postedIndividually: 5, maxListed: 20, template: { digestTitle: '{count} new signups in the last {window}' } });
    expect(block(message.blocks, 'header').text.text).toBe(':package: 25 new signups in the last minute');
    const list = message.blocks.filter((b) => b.type === 'section').map((b) => (b as { text: { text: string } }).text.text).join('\n');
    expect(list.split('\n').filter((l) => l.startsWith('•'))).toHaveLength(20);
    // Each line is the part the header does not already say.
    expect(list).toContain('|10:32:05 UTC> user0@example.com\n');
    expect(list).toContain('…and 5 more');
    expect(JSON.stringify(block(message.blocks, 'context'))).toContain('5 more posted one by one above');
  });

  it('names the window in words', () => {
    expect(humanizeWindow(60_000)).toBe('minute');
    expect(humanizeWindow(120_000)).toBe('2 minutes');
    expect(humanizeWindow(30_000)).toBe('30 seconds');
    expect(humanizeWindow(3600_000)).toBe('hour');
  });

  it('counts repeats in a reply', () => {
    const reply = renderReply({ event: event({ type: 'error.raised', data: { message: 'boom' } }), rangs: [] }, 3);
    expect(block(reply.blocks, 'section').text?.text).toBe(':repeat: *Seen again* (3rd time)\nboom');
    expect(reply.text).toBe('Seen again (3rd time): boom');
  });
});
