// The fake Slack's wire helpers: request bodies as the Web API clients send them, and
// history served like Slack serves it (ranges, pages, cursors, metadata only on request).
import type { IncomingMessage } from 'node:http';
import type { FakeMessage, Fault } from './types.js';

export function page(
  all: FakeMessage[],
  list: FakeMessage[],
  args: Record<string, unknown>,
  order: 'newest-first' | 'oldest-first',
  limits: { byDefault: number; max: number },
): Record<string, unknown> & { ok: boolean } {
  const inclusive = truthy(args.inclusive);
  const oldest = args.oldest === undefined ? undefined : String(args.oldest);
  const latest = args.latest === undefined ? undefined : String(args.latest);
  const inRange = (ts: string) =>
    (oldest === undefined || (inclusive ? tsCompare(ts, oldest) >= 0 : tsCompare(ts, oldest) > 0)) &&
    (latest === undefined || (inclusive ? tsCompare(ts, latest) <= 0 : tsCompare(ts, latest) < 0));
  let items = list.filter((m) => inRange(m.ts));
  if (args.cursor) {
    const from = /^next_ts:(\d+\.\d+)$/.exec(Buffer.from(String(args.cursor), 'base64').toString('utf8'))?.[1];
    if (!from) return { ok: false, error: 'invalid_cursor' };
    items = items.filter((m) => (order === 'newest-first' ? tsCompare(m.ts, from) <= 0 : tsCompare(m.ts, from) >= 0));
  }
  const asked = Number(args.limit ?? limits.byDefault);
  const limit = Math.min(limits.max, Math.max(1, Number.isFinite(asked) && asked > 0 ? asked : limits.byDefault));
  const page = items.slice(0, limit);
  const next = items[limit];
  const withMetadata = truthy(args.include_all_metadata);
  return {
    ok: true,
    messages: page.map((m) => served(all, m, withMetadata)),
    has_more: next !== undefined,
    ...(next ? { response_metadata: { next_cursor: Buffer.from(`next_ts:${next.ts}`).toString('base64') } } : {}),
  };
}

export function served(all: FakeMessage[], m: FakeMessage, withMetadata: boolean): Record<string, unknown> {
  const replies = m.threadTs ? 0 : all.filter((r) => r.threadTs === m.ts && r.channel === m.channel).length;
  return {
    type: 'message',
    ...(m.user ? { user: m.user } : { user: 'U0BOT', bot_id: 'B0BOT', app_id: 'A0FAKE' }),
    ts: m.ts,
    text: m.text,
    ...(m.blocks.length > 0 ? { blocks: m.blocks } : {}),
    ...(m.threadTs ? { thread_ts: m.threadTs } : replies > 0 ? { thread_ts: m.ts, reply_count: replies } : {}),
    ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
  };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The Web API client sends forms whose nested values (blocks, metadata) are JSON strings. */
export function parseArgs(contentType: string, body: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return JSON.parse(body || '{}') as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    out[key] = (key === 'blocks' || key === 'attachments' || key === 'metadata') && /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Form values arrive as strings: "true" and "1" are true. */
export function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** Orders two Slack ts ("seconds.micros", or whole seconds) by time, without float rounding. */
export function tsCompare(a: string, b: string): number {
  const key = (ts: string) => {
    const [s = '0', f = ''] = ts.split('.');
    return s.padStart(12, '0') + f.padEnd(6, '0').slice(0, 6);
  };
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function describeFault(fault: Fault): string {
  if ('drop' in fault) return 'dropped';
  if ('error' in fault) return fault.error;
  return `HTTP ${fault.status}`;
}
