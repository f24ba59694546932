// Block Kit for events, thread replies and digests, with a plain-text fallback:
// header, a mrkdwn section, fields for the key data, a context line (source,
// project, time), rang lines, and buttons for the event's links.
import type { ActionsBlock, Button, ContextBlock, KnownBlock } from '@slack/web-api';
import type { Envelope, Severity } from '../shared/envelope.js';
import type { MessageTemplateConfig } from '../shared/config/schema.js';
import { EVENT_TYPES } from '../shared/event-types.js';
import { display, mrkdwn, plainTime, slackTime, truncate } from './escape.js';
import { dataPath, fill } from './template.js';

export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

/** A bell's ring for an event, shown on the event's message. */
export interface RangNote {
  deviceId: string;
  at: string;
  strikes: number;
}

export interface EventView {
  event: Envelope;
  rangs: readonly RangNote[];
  /** For the first message of a thread: how often the same error was seen. */
  repeats?: { count: number; lastAt: string } | undefined;
}

const LOOK: Record<Severity, { emoji: string; label: string; prefix: string }> = {
  critical: { emoji: ':rotating_light:', label: 'CRITICAL', prefix: 'CRITICAL: ' },
  error: { emoji: ':red_circle:', label: 'error', prefix: '' },
  warning: { emoji: ':warning:', label: 'warning', prefix: '' },
  info: { emoji: ':large_blue_circle:', label: 'info', prefix: '' },
};

// Slack's limits: header 150, section 3000, field 2000, button label 75, 10 fields.
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const FIELDS_MAX = 10;
const BUTTON_MAX = 75;
const BUTTONS_MAX = 5;
const CONTEXT_MAX = 10;
const TEXT_MAX = 3000;

/** Data keys that are shown elsewhere, not as fields. */
const SUMMARY_KEYS = ['message', 'summary', 'description', 'title', 'text'];
const HIDDEN_KEYS = new Set([...SUMMARY_KEYS, 'links', 'fingerprint']);

export function renderEvent(view: EventView, template?: MessageTemplateConfig): RenderedMessage {
  const { event } = view;
  const look = LOOK[event.severity];
  const title = titleOf(event, template);
  const summary = summaryOf(event, template);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${look.emoji} ${look.prefix}${title}`, HEADER_MAX), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(summary.mrkdwn, SECTION_MAX) } },
  ];
  const fields = fieldsOf(event, template);
  if (fields.length > 0) blocks.push({ type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) });
  blocks.push(contextOf(event, view.repeats));
  const rang = rangContext(view.rangs);
  if (rang) blocks.push(rang);
  const actions = actionsOf(event);
  if (actions) blocks.push(actions);
  return { text: fallback(`${look.emoji} ${look.prefix}${title}`, summary.plain, view.rangs), blocks };
}

/** A repeat of an error, posted in the thread of its first message. */
export function renderReply(view: EventView, nth: number, template?: MessageTemplateConfig): RenderedMessage {
  const { event } = view;
  const summary = summaryOf(event, template);
  const headline = `:repeat: *Seen again* (${ordinal(nth)} time)`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncate(`${headline}\n${summary.mrkdwn}`, SECTION_MAX) } },
    contextOf(event, undefined),
  ];
  const rang = rangContext(view.rangs);
  if (rang) blocks.push(rang);
  return { text: fallback(`Seen again (${ordinal(nth)} time)`, summary.plain, view.rangs), blocks };
}

export interface DigestView {
  type: string;
  events: readonly Envelope[];
  windowMs: number;
  /** Events of the same window already posted one by one, before the digest took over. */
  postedIndividually: number;
  maxListed: number;
  template?: MessageTemplateConfig | undefined;
}

/** One message for a burst: "17 new signups in the last minute", with the list. */
export function renderDigest(view: DigestView): RenderedMessage {
  const count = view.events.length;
  const window = humanizeWindow(view.windowMs);
  const titleTemplate = view.template?.digestTitle ?? `{count} × ${view.type} in the last {window}`;
  const title = titleTemplate.replaceAll('{count}', String(count)).replaceAll('{window}', window);
  const lines = view.events.slice(0, view.maxListed).map((e) => {
    const summary = summaryOf(e, view.template);
    return `• ${slackTime(e.time)} ${truncate(oneLine(summary.mrkdwn), 280)}`;
  });
  if (count > view.maxListed) lines.push(`…and ${count - view.maxListed} more`);
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(`:package: ${title}`, HEADER_MAX), emoji: true } }];
  for (const chunk of chunkLines(lines, SECTION_MAX)) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  const notes = [`Digest of ${count} ${view.type} events, so the channel stays readable`];
  if (view.postedIndividually > 0) notes.push(`${view.postedIndividually} more posted one by one above`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn(notes.join(' · ')) }] });
  return { text: truncate(mrkdwn(`:package: ${title}`), TEXT_MAX), blocks };
}

/** A text-only version, for when Slack refuses the blocks (invalid_blocks). */
export function textOnly(message: RenderedMessage): RenderedMessage {
  return { text: message.text, blocks: [] };
}

function titleOf(event: Envelope, template?: MessageTemplateConfig): string {
  if (template?.title) return fill(template.title, event) ?? event.type;
  const known = EVENT_TYPES[event.type];
  return known ? known.replace(/\.$/, '') : event.type;
}

function summaryOf(event: Envelope, template?: MessageTemplateConfig): { mrkdwn: string; plain: string } {
  if (template?.text) {
    return { mrkdwn: fill(template.text, event, { transform: mrkdwn }) ?? '', plain: fill(template.text, event) ?? '' };
  }
  const parts: string[] = [];
  if (event.subject) parts.push(event.subject);
  for (const key of SUMMARY_KEYS) {
    const value = event.data?.[key];
    if (typeof value === 'string' && value.trim() !== '') {
      parts.push(value);
      break;
    }
  }
  if (parts.length === 0) return { mrkdwn: `\`${mrkdwn(event.type)}\``, plain: event.type };
  return { mrkdwn: parts.map(mrkdwn).join('\n'), plain: parts.join(' — ') };
}

function fieldsOf(event: Envelope, template?: MessageTemplateConfig): string[] {
  const entries: Array<[string, unknown]> = template?.fields
    ? template.fields.map((path) => [path, dataPath(event.data, path)])
    : Object.entries(event.data ?? {}).filter(([key, value]) => !HIDDEN_KEYS.has(key) && value !== null && value !== undefined && value !== '');
  return entries
    .filter(([, value]) => value !== undefined)
    .slice(0, FIELDS_MAX)
    .map(([key, value]) => truncate(`*${mrkdwn(key)}*\n${mrkdwn(display(value))}`, FIELD_MAX));
}

function contextOf(event: Envelope, repeats: EventView['repeats']): ContextBlock {
  const look = LOOK[event.severity];
  const parts = [`${look.emoji} *${look.label}*`, mrkdwn(event.source)];
  if (event.project) parts.push(`project ${mrkdwn(event.project)}`);
  parts.push(slackTime(event.time, '{date_short} {time_secs}'));
  const elements: ContextBlock['elements'] = [{ type: 'mrkdwn', text: parts.join(' · ') }];
  if (repeats && repeats.count > 1) {
    elements.push({ type: 'mrkdwn', text: `:repeat: seen ${repeats.count} times, last ${slackTime(repeats.lastAt)}` });
  }
  return { type: 'context', elements };
}

function rangContext(rangs: readonly RangNote[]): ContextBlock | undefined {
  if (rangs.length === 0) return undefined;
  return {
    type: 'context',
    elements: rangs.slice(0, CONTEXT_MAX).map((r) => ({ type: 'mrkdwn' as const, text: `:bell: rang ${mrkdwn(r.deviceId)} ${slackTime(r.at)}` })),
  };
}

function actionsOf(event: Envelope): ActionsBlock | undefined {
  const links = event.data?.links;
  if (!Array.isArray(links)) return undefined;
  const buttons: Button[] = [];
  for (const link of links) {
    if (buttons.length >= BUTTONS_MAX) break;
    if (link === null || typeof link !== 'object') continue;
    const { label, url } = link as Record<string, unknown>;
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url) || url.length > 3000) continue;
    const text = typeof label === 'string' && label.trim() !== '' ? label : url;
    buttons.push({ type: 'button', text: { type: 'plain_text', text: truncate(text, BUTTON_MAX), emoji: true }, url, action_id: `link-${buttons.length}` });
  }
  return buttons.length > 0 ? { type: 'actions', elements: buttons } : undefined;
}

function fallback(title: string, summary: string, rangs: readonly RangNote[]): string {
  const rang = rangs.map((r) => `rang ${r.deviceId} ${plainTime(r.at)}`);
  return truncate(mrkdwn([summary ? `${title}: ${oneLine(summary)}` : title, ...rang].join(' · ')), TEXT_MAX);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' — ');
}

function chunkLines(lines: string[], max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const line of lines) {
    if (current && current.length + 1 + line.length > max) {
      chunks.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : truncate(line, max);
  }
  if (current) chunks.push(current);
  return chunks;
}

export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** 60000 -> "minute", 120000 -> "2 minutes", 1500 -> "1.5 seconds". */
export function humanizeWindow(ms: number): string {
  const units: Array<[number, string]> = [
    [3600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size) {
      const n = Math.round((ms / size) * 10) / 10;
      return n === 1 ? name : `${n} ${name}s`;
    }
  }
  return `${ms} ms`;
}
