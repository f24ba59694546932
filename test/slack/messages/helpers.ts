// Small events for the message tests, and what a message's parts read like.
import type { KnownBlock } from '@slack/web-api';
import { toEnvelope, type Envelope, type EventInput } from '../../../shared/envelope.js';
import type { MessageTemplateConfig } from '../../../shared/config/schema.js';
import { renderEvent, type RenderedMessage } from '../../../slack/render.js';

export function envelope(input: Partial<EventInput> & { type: string }, source = 'app'): Envelope {
  return toEnvelope(input as EventInput, { source, now: () => new Date('2026-05-27T09:15:00Z') });
}

export function render(input: Partial<EventInput> & { type: string }, opts: { source?: string; template?: MessageTemplateConfig } = {}): RenderedMessage {
  return renderEvent({ event: envelope(input, opts.source), rangs: [] }, opts.template);
}

export function header(m: RenderedMessage): string {
  const b = m.blocks.find((x) => x.type === 'header') as Extract<KnownBlock, { type: 'header' }> | undefined;
  return b?.text.text ?? '';
}

export function section(m: RenderedMessage): string {
  const b = m.blocks.find((x) => x.type === 'section' && 'text' in x && x.text) as Extract<KnownBlock, { type: 'section' }> | undefined;
  return b?.text?.text ?? '';
}

/** Fields as {label: value}. */
export function fields(m: RenderedMessage): Record<string, string> {
  const b = m.blocks.find((x) => x.type === 'section' && 'fields' in x && x.fields) as Extract<KnownBlock, { type: 'section' }> | undefined;
  return Object.fromEntries((b?.fields ?? []).map((f) => {
    const [label, ...rest] = f.text.split('\n');
    return [label!.replace(/^\*|\*$/g, ''), rest.join('\n')];
  }));
}

export function context(m: RenderedMessage): string {
  return m.blocks.filter((x) => x.type === 'context').map((x) => JSON.stringify(x)).join('\n');
}

export function buttons(m: RenderedMessage): Array<{ label: string; url: string }> {
  const b = m.blocks.find((x) => x.type === 'actions') as Extract<KnownBlock, { type: 'actions' }> | undefined;
  return (b?.elements ?? []).map((e) => e as { text: { text: string }; url: string }).map((e) => ({ label: e.text.text, url: e.url }));
}
