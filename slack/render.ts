// Block Kit for events, thread replies and digests, with a plain-text fallback. What a
// message says comes from slack/messages (a template per type, overridable in the
// config); this file lays it out: a header that says what happened, a section whose first
// line says who, what and how much, a few labelled fields, a context line (severity,
// source, project, time, small print), rang lines, and link buttons.
import type { ActionsBlock, Button, ContextBlock, KnownBlock } from '@slack/web-api';
import type { Envelope, Severity } from '../shared/envelope.js';
import type { MessageTemplateConfig } from '../shared/config/schema.js';
import { mrkdwn, plainTime, slackTime, truncate } from './escape.js';
import { compose, type Composed } from './messages/compose.js';
import { oneLine } from './messages/text.js';
import type { Link } from './messages/spec.js';

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

/** Slack's limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const LIMITS = {
  header: 150,
  section: 3000,
  field: 2000,
  fields: 10,
  button: 75,
  buttons: 5,
  context: 10,
  blocks: 50,
  text: 3000,
  url: 3000,
} as const;

export function renderEvent(view: EventView, template?: MessageTemplateConfig): RenderedMessage {
  const { event } = view;
  const look = LOOK[event.severity];
  const message = compose(event, template);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${look.emoji} ${look.prefix}${oneLine(message.title)}`, LIMITS.header), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(message.section.md, LIMITS.section) } },
  ];
  const fields = fieldsOf(message);
  if (fields.length > 0) blocks.push({ type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) });
  blocks.push(contextOf(event, message, view.repeats));
  const rang = rangContext(view.rangs);
  if (rang) blocks.push(rang);
  const actions = actionsOf(message.links);
  if (actions) blocks.push(actions);
  return { text: fallback(`${look.emoji} ${look.prefix}${message.lead.plain}`, view.rangs), blocks };
}

/** A repeat of an error, posted in the thread of its first message. */
export function renderReply(view: EventView, nth: number, template?: MessageTemplateConfig): RenderedMessage {
  const { event } = view;
  const message = compose(event, template);
  const headline = `:repeat: *Seen again* (${ordinal(nth)} time)`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncate(`${headline}\n${message.lead.md}`, LIMITS.section) } },
    contextOf(event, undefined, undefined),
  ];
  const rang = rangContext(view.rangs);
  if (rang) blocks.push(rang);
  return { text: fallback(`Seen again (${ordinal(nth)} time): ${message.lead.plain}`, view.rangs), blocks };
}

export interface DigestView {
  type: string;
  /** The events listed (at least the first maxListed of the digest). */
  events: readonly Envelope[];
  /** How many events the digest stands for (default: events.length). */
  count?: number;
  windowMs: number;
  /** Events of the same window already posted one by one, before the digest took over. */
  postedIndividually: number;
  maxListed: number;
  template?: MessageTemplateConfig | undefined;
}

/** One message for a burst: "17 new signups in the last minute", with the list. */
export function renderDigest(view: DigestView): RenderedMessage {
  const count = view.count ?? view.events.length;
  const window = humanizeWindow(view.windowMs);
  const titleTemplate = view.template?.digestTitle ?? `{count} × ${view.type} in the last {window}`;
  const title = titleTemplate.replaceAll('{count}', String(count)).replaceAll('{window}', window);
  const lines = view.events.slice(0, view.maxListed).map((e) => {
    const brief = compose(e, view.template).brief;
    return `• ${slackTime(e.time)} ${truncate(oneLine(brief.md), 280)}`;
  });
  if (count > view.maxListed) lines.push(`…and ${count - view.maxListed} more`);
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(`:package: ${title}`, LIMITS.header), emoji: true } }];
  for (const chunk of chunkLines(lines, LIMITS.section)) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  const notes = [`Digest of ${count} ${view.type} events, so the channel stays readable`];
  if (view.postedIndividually > 0) notes.push(`${view.postedIndividually} more posted one by one above`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn(notes.join(' · ')) }] });
  return { text: truncate(mrkdwn(`:package: ${title}`), LIMITS.text), blocks };
}

/** A text-only version, for when Slack refuses the blocks (invalid_blocks). */
export function textOnly(message: RenderedMessage): RenderedMessage {
  return { text: message.text, blocks: [] };
}

function fieldsOf(message: Composed): string[] {
  return message.fields.slice(0, LIMITS.fields).map(({ label, value }) => truncate(`*${mrkdwn(label)}*\n${value.md}`, LIMITS.field));
}

function contextOf(event: Envelope, message: Composed | undefined, repeats: EventView['repeats']): ContextBlock {
  const look = LOOK[event.severity];
  const parts = [`${look.emoji} *${look.label}*`, mrkdwn(event.source)];
  if (event.project) parts.push(`project ${mrkdwn(event.project)}`);
  parts.push(slackTime(event.time, '{date_short} {time_secs}'));
  for (const note of message?.notes ?? []) parts.push(note.md);
  const elements: ContextBlock['elements'] = [{ type: 'mrkdwn', text: truncate(parts.join(' · '), LIMITS.section) }];
  if (repeats && repeats.count > 1) {
    elements.push({ type: 'mrkdwn', text: `:repeat: seen ${repeats.count} times, last ${slackTime(repeats.lastAt)}` });
  }
  return { type: 'context', elements };
}

function rangContext(rangs: readonly RangNote[]): ContextBlock | undefined {
  if (rangs.length === 0) return undefined;
  return {
    type: 'context',
    elements: rangs.slice(0, LIMITS.context).map((r) => ({ type: 'mrkdwn' as const, text: `:bell: rang ${mrkdwn(r.deviceId)} ${slackTime(r.at)}` })),
  };
}

function actionsOf(links: readonly Link[]): ActionsBlock | undefined {
  const buttons: Button[] = [];
  const seen = new Set<string>();
  for (const { label, url } of links) {
    if (buttons.length >= LIMITS.buttons) break;
    if (!/^https?:\/\//i.test(url) || url.length > LIMITS.url || seen.has(url)) continue;
    seen.add(url);
    buttons.push({ type: 'button', text: { type: 'plain_text', text: truncate(label, LIMITS.button), emoji: true }, url, action_id: `link-${buttons.length}` });
  }
  return buttons.length > 0 ? { type: 'actions', elements: buttons } : undefined;
}

function fallback(first: string, rangs: readonly RangNote[]): string {
  const rang = rangs.map((r) => `rang ${r.deviceId} ${plainTime(r.at)}`);
  return truncate(mrkdwn([oneLine(first), ...rang].join(' · ')), LIMITS.text);
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
