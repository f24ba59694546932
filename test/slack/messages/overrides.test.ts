// Templates from slack.templates over the built-in messages: a part the team sets
// replaces the built-in one, the rest stays; placeholders with filters for money and dates.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../shared/config/load.js';
import { renderDigest, renderReply } from '../../../slack/render.js';
import { buttons, envelope, fields, header, render, section } from './helpers.js';

// The example in docs/slack.md ("### Your own templates"), read as a bellhop config, so the docs stay true.
const DOCS = readFileSync(new URL('../../../docs/slack.md', import.meta.url), 'utf8');
const EXAMPLE = /### Your own templates[\s\S]*?```yaml\n([\s\S]*?)```/.exec(DOCS)?.[1] ?? '';
const CONFIG = parse(EXAMPLE) as unknown;

const templates = parseConfig(CONFIG).slack.templates;

describe('templates from the config', () => {
  const overdue = envelope({
    type: 'invoice.overdue',
    severity: 'warning',
    data: { amount: 129900, currency: 'sek', customer: { name: 'Åsa & Co', email: 'asa@example.se', id: 'c/42 x' }, dueAt: '2025-05-20T00:00:00Z', plan: 'Team', daysLate: 7 },
  });

  it('are accepted by the config schema as the docs write them', () => {
    expect(Object.keys(templates)).toEqual(['invoice.overdue', 'user.signup']);
  });

  it('fill title, text, labelled fields and link buttons, with money and dates formatted', () => {
    const m = render(overdue, { template: templates['invoice.overdue'] });
    expect(header(m)).toBe(':warning: Invoice overdue: Åsa & Co');
    expect(section(m)).toBe('*SEK\u00a01,299.00* from Åsa &amp; Co (asa@example.se), due <!date^1747699200^{date_short_pretty} {time}|Tue 20 May 2025, 00:00 UTC>');
    expect(fields(m)).toEqual({ Plan: 'Team', 'Days late': '7' });
    // Values in a URL are encoded, so a slash or a space cannot change where it points.
    expect(buttons(m)).toEqual([{ label: 'Open in admin', url: 'https://admin.example.com/customers/c%2F42%20x' }]);
    expect(m.text).toBe(':warning: Invoice overdue: Åsa &amp; Co: *SEK\u00a01,299.00* from Åsa &amp; Co (asa@example.se), due Tue 20 May 2025, 00:00 UTC');
  });

  it('a template that sets only the title keeps the built-in first line and fields', () => {
    const m = render({ type: 'user.signup', data: { email: 'a@example.com', name: 'Ana', plan: 'Pro', country: 'DE' } }, { template: templates['user.signup'] });
    expect(header(m)).toBe(':large_blue_circle: New signup: a@example.com');
    expect(m.text).toBe(':large_blue_circle: A new customer signed up: Ana (a@example.com) on Pro');
    expect(fields(m)).toEqual({ Country: 'DE' });
  });

  it('drops a field whose value is missing, and a link that is not http(s) once filled', () => {
    const m = render(
      { type: 'app.thing', data: { url: 'javascript:alert(1)' } },
      { template: { fields: ['missing', { label: 'Also missing', value: '{data.nope}' }], links: [{ label: 'Go', url: '{data.url}' }] } },
    );
    expect(fields(m)).toEqual({});
    expect(buttons(m)).toEqual([]);
  });

  it('shape thread replies and digest lines too', () => {
    const reply = renderReply({ event: overdue, rangs: [] }, 2, templates['invoice.overdue']);
    expect(reply.text).toContain('Seen again (2nd time): Invoice overdue: Åsa &amp; Co: *SEK');
    const digest = renderDigest({ type: 'invoice.overdue', events: [overdue], windowMs: 60_000, postedIndividually: 0, maxListed: 5, template: templates['invoice.overdue'] });
    expect(JSON.stringify(digest.blocks)).toContain('*SEK\u00a01,299.00* from Åsa &amp; Co');
  });
});
