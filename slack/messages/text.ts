// A piece of message text in the two forms Slack needs: mrkdwn (escaped, with date
// tokens and bold) for blocks, and plain for the notification `text`, the header and the
// dry run. Building both at once keeps them saying the same thing.
import { mrkdwn } from '../escape.js';

export interface Text {
  readonly md: string;
  readonly plain: string;
}

/** What a sentence is built from: event values (escaped for mrkdwn) or finished Text. */
export type Part = Text | string | number | undefined | null | false;

export function isText(v: unknown): v is Text {
  return typeof v === 'object' && v !== null && typeof (v as Text).md === 'string' && typeof (v as Text).plain === 'string';
}

/** An event value as Text; empty values give undefined, so optional parts drop out. */
export function text(v: Part): Text | undefined {
  if (v === undefined || v === null || v === false) return undefined;
  if (isText(v)) return v.plain === '' && v.md === '' ? undefined : v;
  const s = String(v);
  return s.trim() === '' ? undefined : { md: mrkdwn(s), plain: s };
}

/** Text whose mrkdwn is already safe (a date token, our own markup). */
export function markup(md: string, plain: string): Text {
  return { md, plain };
}


/**
 * A sentence from our own wording (the literal parts, trusted) and event values. Any
 * missing value makes the whole sentence undefined: `t\`, attempt ${n}\`` drops out
 * when there is no attempt count, which is how optional segments are written.
 */
export function t(strings: TemplateStringsArray, ...values: Part[]): Text | undefined {
  let md = strings[0]!;
  let plain = strings[0]!;
  for (let i = 0; i < values.length; i++) {
    const v = text(values[i]);
    if (!v) return undefined;
    md += v.md + strings[i + 1]!;
    plain += v.plain + strings[i + 1]!;
  }
  return { md, plain };
}

/** The present parts, joined; undefined when none is. */
export function join(sep: string, parts: readonly Part[]): Text | undefined {
  const present = parts.map(text).filter((p): p is Text => p !== undefined);
  if (present.length === 0) return undefined;
  return { md: present.map((p) => p.md).join(sep), plain: present.map((p) => p.plain).join(sep) };
}

/** The first present part. */
export function first(...parts: Part[]): Text | undefined {
  for (const p of parts) {
    const x = text(p);
    if (x) return x;
  }
  return undefined;
}

/** Several lines as one, for the notification text and digest lines. */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' — ');
}

/** Shortens a value to a readable length (titles in sentences, messages). */
export function clip(v: string | undefined, max: number): string | undefined {
  if (v === undefined) return undefined;
  return v.length <= max ? v : `${v.slice(0, max - 1)}…`;
}
