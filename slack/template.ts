// Placeholders like {project} or {data.user_email}, used by routes (channel and dm
// targets) and by message templates. A placeholder may name a filter after a bar,
// {data.amount|money} or {data.trialEnd|date}: message templates supply the filters
// (slack/messages/configured.ts); routes have none, so there the bare value is used.
import type { Envelope } from '../shared/envelope.js';
import { display } from './escape.js';

const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)(?:\|([a-z]+))?\}/g;
const TOP_LEVEL = new Set(['id', 'type', 'source', 'severity', 'project', 'subject', 'time']);

/** The value at a path: a top-level attribute (project, type...) or data.<dotted path>. */
export function lookup(event: Envelope, path: string): unknown {
  if (TOP_LEVEL.has(path)) return (event as Record<string, unknown>)[path];
  if (!path.startsWith('data.')) return undefined;
  return dataPath(event.data, path.slice('data.'.length));
}

/** A value inside event data by dotted path (`user.email`). */
export function dataPath(data: unknown, path: string): unknown {
  let node: unknown = data;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The placeholder paths of a template (filters left off), to check them when the config is read. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

export function isKnownPath(path: string): boolean {
  return TOP_LEVEL.has(path) || (path.startsWith('data.') && path.length > 'data.'.length);
}

/** A filter's finished text for a value (already escaped as its caller needs), or undefined to use the value as is. */
export type Filter = (name: string, value: unknown, path: string, event: Envelope) => string | undefined;

export interface FillOptions {
  /** Applied to each value: escaping, slugging. Not to a filter's output, which is final. */
  transform?: (value: string) => string;
  /** A missing or empty value makes the whole result undefined. */
  strict?: boolean;
  /** How a value becomes text (default: display, objects as JSON). */
  show?: (value: unknown) => string;
  filter?: Filter;
}

/**
 * Fills a template. With `strict`, a missing or empty value makes the result undefined,
 * so a route like "#proj-{project}" does not apply to events without a project.
 */
export function fill(template: string, event: Envelope, { transform = (v: string) => v, strict = false, show = display, filter }: FillOptions = {}): string | undefined {
  let missing = false;
  const out = template.replace(PLACEHOLDER, (_m, path: string, name: string | undefined) => {
    const value = lookup(event, path);
    const filtered = name && filter ? filter(name, value, path, event) : undefined;
    const text = filtered ?? transform(show(value).trim());
    if (text === '') missing = true;
    return text;
  });
  return strict && missing ? undefined : out;
}

/** Slack channel names: lower case, no spaces or punctuation but - and _, at most 80 characters. */
export function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '');
}
