// The tiny client for apps and cron jobs: `import { createNotifier } from 'bellhop/client'`.
//
//   const notifier = createNotifier({ url: 'http://bellhop.local:8080', token: process.env.BELLHOP_TOKEN });
//   await notifier.send({ type: 'task.completed', data: { job: 'nightly-backup' } });
//
// Each event gets its id here, before the first attempt, so a retry after a timeout, a 503
// (nothing was published) or a 504 (publish_unconfirmed: it may have been published) is
// recognised downstream instead of ringing twice. It signs with Standard Webhooks
// when given a signing secret instead of a token. Only fetch and WebCrypto: no server code,
// no dependencies.
import type { Severity } from './envelope.js';

export type { Severity };

export interface NotifierOptions {
  /** The bellhop server, e.g. http://bellhop.local:8080 (a trailing /v1/events is tolerated). */
  url: string;
  /** API bearer token (server.tokens). */
  token?: string;
  /** Or a Standard Webhooks signing secret (sources.standardWebhooks), whsec_<base64>. */
  signingSecret?: string;
  /** Defaults applied to every event that does not set its own. */
  source?: string;
  project?: string;
  /**
   * Per attempt (default 10000: longer than the server's default publish timeout of 5 s,
   * so its own answer, a 504 included, comes first).
   */
  timeoutMs?: number;
  /** Further attempts, each with the same event ids, after a network error or timeout, 429, 502, 503 or 504 (default 3). */
  retries?: number;
  /** First back-off; doubles each attempt, and Retry-After wins when the server sends it (default 500). */
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

export interface NotifierEvent {
  type: string;
  data?: Record<string, unknown>;
  severity?: Severity;
  subject?: string;
  project?: string;
  source?: string;
  /** Set it to make your own retries idempotent; otherwise one is made per send(). */
  id?: string;
  time?: string | Date;
}

export interface SendResult {
  ids: string[];
  /** True when the server had already accepted this delivery (a retry of an earlier one). */
  duplicate: boolean;
}

export interface Notifier {
  send(event: NotifierEvent): Promise<SendResult>;
  sendBatch(events: NotifierEvent[]): Promise<SendResult>;
  /**
   * Runs a job and reports it: task.completed with its duration, or task.failed (error
   * severity) with the error message, then rethrows. A failed report of a failed job does
   * not hide the job's own error.
   */
  task<T>(name: string, job: () => T | Promise<T>, data?: Record<string, unknown>): Promise<T>;
}

export class NotifierError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the server answered. */
    readonly status?: number,
    /** The server's error code, e.g. unknown_type. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'NotifierError';
  }
}

/** Severity an event type gets when the sender does not say: failures are errors. */
export const DEFAULT_SEVERITY: Readonly<Record<string, Severity>> = {
  'task.failed': 'error',
  'deploy.failed': 'error',
  'ci.failed': 'error',
  'error.raised': 'error',
  // As the webhook sources grade them (shared/event-types.ts SOURCE_TYPES).
  'payment.failed': 'error',
  'payment.disputed': 'error',
};

// 503: nothing was published; 504 (publish_unconfirmed): it may have been, so the retry
// must carry the same ids, which it does (they are fixed before the first attempt).
const RETRYABLE = new Set([429, 502, 503, 504]);

export function createNotifier(opts: NotifierOptions): Notifier {
  if (!opts.token && !opts.signingSecret) throw new NotifierError('createNotifier: give a token or a signingSecret');
  const endpoint = `${opts.url.replace(/\/+$/, '').replace(/\/v1\/events$/, '')}/v1/events`;
  const doFetch = opts.fetch ?? fetch;
  const retries = opts.retries ?? 3;
  const baseDelay = opts.retryDelayMs ?? 500;
  const timeoutMs = opts.timeoutMs ?? 10_000;

  const shape = (e: NotifierEvent): Record<string, unknown> => {
    const out: Record<string, unknown> = { type: e.type, id: e.id ?? globalThis.crypto.randomUUID() };
    const severity = e.severity ?? DEFAULT_SEVERITY[e.type];
    const source = e.source ?? opts.source;
    const project = e.project ?? opts.project;
    if (e.data !== undefined) out.data = e.data;
    if (severity !== undefined) out.severity = severity;
    if (e.subject !== undefined) out.subject = e.subject;
    if (source !== undefined) out.source = source;
    if (project !== undefined) out.project = project;
    if (e.time !== undefined) out.time = e.time instanceof Date ? e.time.toISOString() : e.time;
    return out;
  };

  const post = async (payload: unknown, messageId: string): Promise<SendResult> => {
    const body = JSON.stringify(payload);
    let lastError: NotifierError | undefined;
    let waitMs = 0;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await delay(waitMs);
      const backoff = baseDelay * 2 ** attempt;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      else Object.assign(headers, await signHeaders(opts.signingSecret!, messageId, body));
      let res: Response;
      try {
        res = await doFetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        lastError = new NotifierError(`cannot reach ${endpoint}: ${reason(err)}`);
        waitMs = backoff;
        continue;
      }
      const text = await res.text();
      if (res.status === 202 || res.status === 200) {
        const parsed = safeJson(text) as { ids?: unknown; status?: unknown } | undefined;
        const ids = Array.isArray(parsed?.ids) ? parsed.ids.filter((x): x is string => typeof x === 'string') : [];
        return { ids, duplicate: parsed?.status === 'duplicate' };
      }
      const code = (safeJson(text) as { error?: unknown } | undefined)?.error;
      lastError = new NotifierError(`server answered ${res.status}: ${text}`, res.status, typeof code === 'string' ? code : undefined);
      if (!RETRYABLE.has(res.status)) throw lastError;
      const after = Number(res.headers.get('retry-after'));
      waitMs = Number.isFinite(after) && after > 0 ? Math.min(after, 60) * 1000 : backoff;
    }
    throw lastError ?? new NotifierError('not sent');
  };

  const notifier: Notifier = {
    async send(event) {
      const payload = shape(event);
      return post(payload, payload.id as string);
    },
    async sendBatch(events) {
      if (events.length === 0) return { ids: [], duplicate: false };
      const payload = events.map(shape);
      return post(payload, globalThis.crypto.randomUUID());
    },
    async task(name, job, data = {}) {
      const started = Date.now();
      let result: Awaited<ReturnType<typeof job>>;
      try {
        result = await job();
      } catch (err) {
        await notifier
          .send({ type: 'task.failed', subject: name, data: { ...data, task: name, durationMs: Date.now() - started, error: reason(err) } })
          .catch(() => undefined);
        throw err;
      }
      await notifier.send({ type: 'task.completed', subject: name, data: { ...data, task: name, durationMs: Date.now() - started } });
      return result;
    },
  };
  return notifier;
}

/** Standard Webhooks headers: v1,<base64 HMAC-SHA256 of "id.timestamp.body">. */
export async function signHeaders(secret: string, id: string, body: string, now = Date.now()): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(now / 1000));
  const keyBytes = secret.startsWith('whsec_') ? fromBase64(secret.slice('whsec_'.length)) : new TextEncoder().encode(secret);
  const key = await globalThis.crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await globalThis.crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${toBase64(new Uint8Array(mac))}` };
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function reason(err: unknown): string {
  if (err instanceof Error) return err.cause instanceof Error ? err.cause.message : err.message;
  return String(err);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
