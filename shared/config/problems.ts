// The lines a config mistake is reported in: one per key path, each starting with the
// path (or, when the value came from a variable, with the variable the user actually set).
import type { ValueError } from '@sinclair/typebox/value';
import { Kind, type TSchema } from '@sinclair/typebox';
import { unknownKeyText } from './suggest.js';

export interface Problem {
  /** Dotted key path, '' for the top level. */
  path: string;
  /** What is wrong, without the path. */
  text: string;
  /** The offending value as read (a ${VAR} gives the string "8080", not the number). */
  got?: string;
}

/** Where a value came from, by dotted key path: "BELLHOP_HTTP_PORT=abc", "${PORT}=abc". */
export type Origins = ReadonlyMap<string, string>;

/** More lines than this bury the first ones; the count of the rest is enough. */
const MAX_LINES = 20;

const SECRET_SEGMENT = /pass(word)?|token|secret|key$/i;

/** A value under a secret-sounding key is never echoed; list items count as their list
 *  (sources.stripe.secrets.0), while server.tokens.0.name is no secret. */
export function isSecretPath(path: string): boolean {
  const named = path.split('.').filter((segment) => !/^\d+$/.test(segment));
  return SECRET_SEGMENT.test(named[named.length - 1] ?? '');
}

/** A URL's password (mqtt://user:pass@host) stays out of error lines too. */
function withoutPassword(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*):[^@/\s]*@/g, '$1:***@');
}

/** `NAME=value` for the origin of a value, with the value hidden under a secret key. */
export function originLabel(name: string, value: string, path: string): string {
  if (isSecretPath(path)) return `${name} (value hidden)`;
  const plain = withoutPassword(value);
  const shown = /^[\w.:/@#*+,-]*$/.test(plain) ? plain : JSON.stringify(plain);
  return `${name}=${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`;
}

export function schemaProblem(error: ValueError): Problem {
  const path = error.path.split('/').filter(Boolean).join('.');
  // Unknown keys come back as an error on the parent with the offending key in the path.
  if (error.message.startsWith('Unexpected property')) {
    const allowed = Object.keys((error.schema as { properties?: Record<string, unknown> }).properties ?? {});
    return { path, text: unknownKeyText(path, allowed) };
  }
  if (error.value === undefined) return { path, text: `required, expected ${expected(error.schema)}` };
  return { path, text: `expected ${expected(error.schema)}`, got: isSecretPath(path) ? 'a hidden value' : show(error.value) };
}

/** One line per key path (the first problem found there wins), each blamed on its origin. */
export function formatProblems(problems: readonly Problem[], origins: Origins = new Map()): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const p of problems) {
    if (seen.has(p.path)) continue;
    seen.add(p.path);
    const origin = origins.get(p.path);
    const line = `${p.path || '(top level)'}: ${p.text}${p.got !== undefined ? `, got ${p.got}` : ''}`;
    lines.push(origin ? `${origin}: ${line}` : line);
  }
  if (lines.length <= MAX_LINES) return lines;
  return [...lines.slice(0, MAX_LINES), `... and ${lines.length - MAX_LINES} more problems`];
}

/** Whether `path` is `prefix` or lies under it (every path lies under the top level ''). */
export function isWithin(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}.`);
}

function expected(schema: TSchema): string {
  const s = schema as Record<string, unknown> & { [Kind]?: string };
  switch (s[Kind]) {
    case 'Integer':
    case 'Number': {
      const noun = s[Kind] === 'Integer' ? 'an integer' : 'a number';
      const { minimum: min, maximum: max } = s as { minimum?: number; maximum?: number };
      if (min !== undefined && max !== undefined) return `${noun} ${min}-${max}`;
      if (min !== undefined) return `${noun} >= ${min}`;
      return noun;
    }
    case 'String': {
      const parts = ['a string'];
      if (typeof s.minLength === 'number' && s.minLength > 1) parts.push(`of at least ${s.minLength} characters`);
      if (typeof s.pattern === 'string') parts.push(`matching ${s.pattern}`);
      return parts.join(' ');
    }
    case 'Literal':
      return JSON.stringify(s.const);
    case 'Union': {
      const options = (s.anyOf as TSchema[]).map(expected);
      return `one of ${options.join(', ')}`;
    }
    case 'Boolean':
      return 'true or false';
    case 'Array':
      return 'a list';
    case 'Object':
    case 'Record':
      return 'a mapping';
    default:
      return String(s[Kind] ?? 'something else').toLowerCase();
  }
}

function show(value: unknown): string {
  const text = withoutPassword(JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The line of a YAML file a parse error points at, safe to print. */
function sourceLine(line: string): string {
  const trimmed = line.trim();
  // A broken line may hold a literal secret: keep what names the key, never the value.
  if (/pass|token|secret|key/i.test(trimmed)) return `${trimmed.split(':')[0]}: ...`;
  return trimmed.length > 80 ? `${trimmed.slice(0, 77)}...` : trimmed;
}

/** One line per broken line of the file: later errors on the same line only echo the first. */
export function yamlProblems(file: string, text: string, errors: ReadonlyArray<{ message: string; linePos?: ReadonlyArray<{ line: number; col: number }> }>): string[] {
  const lines = text.split(/\r?\n/);
  const seen = new Set<number>();
  const out: string[] = [];
  for (const error of errors) {
    // yaml's message is "<reason> at line L, column C:" and then a code frame.
    const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?\s*$/, '').replace(/:\s*$/, '');
    const pos = error.linePos?.[0];
    if (!pos) {
      out.push(`config file ${file}: not valid YAML: ${reason}`);
      continue;
    }
    if (seen.has(pos.line)) continue;
    seen.add(pos.line);
    const source = sourceLine(lines[pos.line - 1] ?? '');
    out.push(`config file ${file}: not valid YAML at line ${pos.line}, column ${pos.col}: ${reason}${source ? `, in "${source}"` : ''}`);
  }
  return out.length > MAX_LINES ? [...out.slice(0, MAX_LINES), `... and ${out.length - MAX_LINES} more problems`] : out;
}
