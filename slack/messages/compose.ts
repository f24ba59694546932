// One message from the type's built-in draft and, over it, the team's template from
// slack.templates: each part the template sets replaces the built-in one, the rest stays.
import type { Envelope } from '../../shared/envelope.js';
import type { MessageTemplateConfig } from '../../shared/config/schema.js';
import { mrkdwn } from '../escape.js';
import { dataPath, fill, lookup, type Filter } from '../template.js';
import { draftOf } from './catalogue.js';
import type { Link } from './spec.js';
import { join, oneLine, t, text, type Text } from './text.js';
import { money } from './money.js';
import { humanize, readable } from './values.js';
import { when } from './when.js';

export interface Composed {
  /** Header text, without the severity look. */
  title: string;
  /** The first line: the notification text after the severity, and a thread reply's line. */
  lead: Text;
  /** A digest's line for this event. */
  brief: Text;
  /** The main section. */
  section: Text;
  fields: Array<{ label: string; value: Text }>;
  notes: Text[];
  links: Link[];
}

export function compose(event: Envelope, template?: MessageTemplateConfig): Composed {
  const draft = draftOf(event);
  const notes = (draft.notes ?? []).map(text).filter((n): n is Text => n !== undefined);
  const lead = withSubject(draft.headline, event.subject, notes);
  const headline = draft.icon ? { md: `${draft.icon} ${lead.md}`, plain: lead.plain } : lead;
  const builtIn: Composed = {
    title: draft.title,
    lead,
    brief: withSubject(draft.brief ?? draft.headline, event.subject, notes),
    section: join('\n', [headline, ...(draft.details ?? [])])!,
    fields: (draft.fields ?? []).flatMap(([label, value]) => {
      const v = text(value);
      return v ? [{ label, value: v }] : [];
    }),
    notes,
    links: [...(draft.links ?? []), ...dataLinks(event)],
  };
  return template ? override(builtIn, event, template) : builtIn;
}

/** The sender's subject (often the one thing that tells two events apart) stays on the first line unless it is shown already. */
function withSubject(line: Text, subject: string | undefined, notes: readonly Text[]): Text {
  if (!subject || line.plain.includes(subject) || notes.some((n) => n.plain.includes(subject))) return line;
  return t`${line} — ${subject}` ?? line;
}

function override(base: Composed, event: Envelope, template: MessageTemplateConfig): Composed {
  const out = { ...base };
  if (template.title) out.title = fillText(template.title, event).plain || base.title;
  if (template.text) {
    const body = fillText(template.text, event);
    out.section = body;
    out.brief = { md: oneLine(body.md), plain: oneLine(body.plain) };
    out.lead = t`${out.title}: ${out.brief}` ?? text(out.title)!;
  }
  if (template.fields) {
    out.fields = template.fields.flatMap((f) => {
      const [label, value] = typeof f === 'string' ? [humanize(f), text(readable(dataPath(event.data, f)))] : [f.label, nonEmpty(fillText(f.value, event))];
      return value ? [{ label, value }] : [];
    });
  }
  if (template.links) {
    const own = template.links.flatMap((l) => {
      const url = fill(l.url, event, { transform: encodeURIComponent, show: (v) => readable(v) ?? '' });
      return url && /^https?:\/\//i.test(url) ? [{ label: fillText(l.label, event).plain || url, url }] : [];
    });
    out.links = [...own, ...base.links];
  }
  return out;
}

/** A template filled twice: escaped mrkdwn for blocks, plain for the header and the notification text. */
export function fillText(template: string, event: Envelope): Text {
  const show = (v: unknown) => readable(v) ?? '';
  return {
    md: fill(template, event, { transform: mrkdwn, show, filter: filters('md') }) ?? '',
    plain: fill(template, event, { show, filter: filters('plain') }) ?? '',
  };
}

function nonEmpty(x: Text): Text | undefined {
  return x.plain.trim() === '' ? undefined : x;
}

/** {x|money}: minor units in the currency next to it (x's sibling "currency", else data.currency); {x|date}: a Slack date. */
function filters(mode: 'md' | 'plain'): Filter {
  return (name, value, path, event) => {
    if (name === 'date') {
      const w = when(value);
      return w && (mode === 'md' ? w.md : w.plain);
    }
    if (name === 'money') {
      const sibling = path.includes('.') ? `${path.slice(0, path.lastIndexOf('.'))}.currency` : 'data.currency';
      const currency = lookup(event, sibling) ?? lookup(event, 'data.currency');
      const amount = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
      const m = money(amount, typeof currency === 'string' ? currency : undefined);
      return m && (mode === 'md' ? mrkdwn(m) : m);
    }
    return undefined;
  };
}

/** data.links: [{label, url}] from the sources (View run, Open task). */
function dataLinks(event: Envelope): Link[] {
  const links = event.data?.links;
  if (!Array.isArray(links)) return [];
  return links.flatMap((link) => {
    if (link === null || typeof link !== 'object') return [];
    const { label, url } = link as Record<string, unknown>;
    if (typeof url !== 'string') return [];
    return [{ label: typeof label === 'string' && label.trim() !== '' ? label : url, url }];
  });
}
