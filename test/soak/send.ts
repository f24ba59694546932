// Senders for the soak: a few concurrent loops posting one event per request, each with
// the soak's own id, paced to a steady rate, retrying nothing. Every answer is kept.
import type { EventInput } from '../../shared/envelope.js';
import { TEST_TOKEN } from '../helpers/world.js';

export interface StreamOptions {
  url: string;
  count: number;
  /** Concurrent senders. */
  senders: number;
  /**
   * Events per second over all senders, at most. Senders held up (a publish waiting for
   * its timeout) do not catch up afterwards with a burst: the rate is a ceiling.
   */
  ratePerSecond: number;
  event: (n: number) => EventInput & { id: string };
  /** Called before the n-th event is sent (the scenario's fault schedule hangs off it). */
  beforeSend?: (n: number) => void;
}

export interface Answer {
  id: string;
  /** HTTP status; 0 when the request itself failed (connection refused or reset). */
  status: number;
  /** The error code of a refusal's JSON body: broker_unavailable (503) or publish_unconfirmed (504). */
  code?: string;
  /** The error message of a refusal, for people. */
  message?: string;
  /** When it was sent, ms since the stream started. */
  sentAtMs: number;
  /** When the answer came, ms since the stream started. */
  answeredAtMs: number;
}

export interface StreamResult {
  answers: Answer[];
  durationMs: number;
}

export async function sendStream(opts: StreamOptions): Promise<StreamResult> {
  const answers: Answer[] = [];
  const started = Date.now();
  const interval = 1000 / opts.ratePerSecond;
  let next = 0;
  let nextSlot = started;
  const sender = async () => {
    for (;;) {
      const n = next++;
      if (n >= opts.count) return;
      const slot = Math.max(Date.now(), nextSlot);
      nextSlot = slot + interval;
      // Pacing, not settling: the stream has a rate, as a real one does.
      if (slot > Date.now()) await new Promise((r) => setTimeout(r, slot - Date.now()));
      opts.beforeSend?.(n);
      const event = opts.event(n);
      const sentAtMs = Date.now() - started;
      const answer = await post(opts.url, event);
      answers[n] = { id: event.id, sentAtMs, answeredAtMs: Date.now() - started, ...answer };
    }
  };
  await Promise.all(Array.from({ length: opts.senders }, sender));
  return { answers, durationMs: Date.now() - started };
}

async function post(url: string, event: EventInput): Promise<{ status: number; code?: string; message?: string }> {
  try {
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    if (res.ok) return { status: res.status };
    return { status: res.status, ...errorOf(text) };
  } catch (err) {
    return { status: 0, message: (err as Error).message };
  }
}

function errorOf(body: string): { code?: string; message: string } {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    return {
      ...(typeof parsed.error === 'string' ? { code: parsed.error } : {}),
      message: typeof parsed.message === 'string' ? parsed.message : body,
    };
  } catch {
    return { message: body };
  }
}

/**
 * Why a publish was refused, from the status and the error code (never the message):
 * 503 broker_unavailable = the server had no broker, nothing was sent; 504
 * publish_unconfirmed = sent, but no PUBACK (PUBCOMP) in time, so maybe published.
 */
export function refusalKind(answer: Answer): 'unreachable' | 'unconfirmed' | 'other' {
  if (answer.status === 503 && answer.code === 'broker_unavailable') return 'unreachable';
  if (answer.status === 504 && answer.code === 'publish_unconfirmed') return 'unconfirmed';
  return 'other';
}

/** Answers by class: accepted (2xx), refused (503 or 504: a publish failed), anything else. */
export function classify(answers: readonly Answer[]): { accepted: string[]; refused: Answer[]; other: Answer[] } {
  const accepted: string[] = [];
  const refused: Answer[] = [];
  const other: Answer[] = [];
  for (const a of answers) {
    if (a.status >= 200 && a.status < 300) accepted.push(a.id);
    else if (a.status === 503 || a.status === 504) refused.push(a);
    else other.push(a);
  }
  return { accepted, refused, other };
}
