// Reading event data without trusting its shape: senders (and adapters being extended)
// may add, drop or retype a field, so every read names its candidates and a message
// renders what exists. Objects and arrays become readable text or nothing, never JSON.
import type { Envelope } from '../../shared/envelope.js';
import { dataPath } from '../template.js';

export class Facts {
  readonly event: Envelope;

  constructor(event: Envelope) {
    this.event = event;
  }

  /** The raw value at a dotted data path. */
  at(path: string): unknown {
    return dataPath(this.event.data, path);
  }

  /** The first non-empty string (or number, as text) among the paths. */
  s(...paths: string[]): string | undefined {
    for (const p of paths) {
      const v = this.at(p);
      if (typeof v === 'string' && v.trim() !== '') return v.trim();
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    }
    return undefined;
  }

  /** The first finite number among the paths (numeric strings count). */
  n(...paths: string[]): number | undefined {
    for (const p of paths) {
      const v = this.at(p);
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
    }
    return undefined;
  }

  b(path: string): boolean | undefined {
    const v = this.at(path);
    return typeof v === 'boolean' ? v : undefined;
  }

  list(path: string): unknown[] {
    const v = this.at(path);
    return Array.isArray(v) ? v : [];
  }
}

const LIST_MAX = 8;

/**
 * A value as one line people can read: scalars as they are, a list of scalars joined,
 * a flat object as "key: value" pairs. Deeper structures give undefined (left out).
 */
export function readable(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) {
    const items = value.map((v) => (isObject(v) ? nameOf(v) : scalar(v)));
    if (items.length === 0 || items.some((i) => i === undefined)) return undefined;
    const shown = items.slice(0, LIST_MAX).join(', ');
    return items.length > LIST_MAX ? `${shown} and ${items.length - LIST_MAX} more` : shown;
  }
  if (isObject(value)) {
    const pairs = Object.entries(value).map(([k, v]) => [k, scalar(v)] as const);
    if (pairs.length === 0 || pairs.some(([, v]) => v === undefined)) return undefined;
    return pairs
      .slice(0, LIST_MAX)
      .map(([k, v]) => `${humanize(k).toLowerCase()}: ${v}`)
      .join(', ');
  }
  return undefined;
}

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** An object in a list is usually a named thing (a job, a label): its name stands for it. */
function nameOf(o: Record<string, unknown>): string | undefined {
  for (const key of ['name', 'label', 'title', 'id']) {
    const v = scalar(o[key]);
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A data key as a label: "previousPlan" -> "Previous plan", "user_email" -> "User email". */
export function humanize(key: string): string {
  const last = key.split('.').at(-1) ?? key;
  const words = last
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A machine word as prose: "cancellation_requested" -> "cancellation requested". */
export function words(v: string | undefined): string | undefined {
  return v?.replace(/[_-]+/g, ' ');
}
