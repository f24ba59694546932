// Placeholders like {project} or {data.user_email}, used by routes (channel and dm
// targets) and by message templates.
import type { Envelope } from '../shared/envelope.js';
import { display } from './escape.js';

const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)\}/g;
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

/** The placeholder paths of a template, to check them when the config is read. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

export function isKnownPath(path: string): boolean {
  return TOP_LEVEL.has(path) || (path.startsWith('data.') && path.length > 'data.'.length);
}

/**
 * Fills a template. Each value goes through `transform` (escaping, slugging).
 * With `strict`, a missing or empty value makes the result undefined, so a route
 * like "#proj-{project}" does not apply to events without a project.
 */
export function fill(
  template: string,
  event: Envelope,
  { transform = (v: string) => v, strict = false }: { transform?: (value: string) => string; strict?: boolean } = {},
): string | undefined {
  let missing = false;
  const out = template.replace(PLACEHOLDER, (_m, path: string) => {
    const text = transform(display(lookup(event, path)).trim());
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
