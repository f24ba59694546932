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
  /** The error message of a refusal (which says why: broker unreachable, or no PUBACK in time). */
  message?: string;
  /** When it was sent, ms since the stream started. */
  sentAtMs: number;
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
      answers[n] = { id: event.id, sentAtMs, ...(await post(opts.url, event)) };
    }
  };
  await Promise.all(Array.from({ length: opts.senders }, sender));
  return { answers, durationMs: Date.now() - started };
}

async function post(url: string, event: EventInput): Promise<{ status: number; message?: string }> {
  try {
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    if (res.ok) return { status: res.status };
    return { status: res.status, message: messageOf(text) };
  } catch (err) {
    return { status: 0, message: (err as Error).message };
  }
}

function messageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : body;
  } catch {
    return body;
  }
}

/** Why a 503 was sent: the broker was unreachable (nothing sent), or sent with no PUBACK in time. */
export function refusalKind(answer: Answer): 'unreachable' | 'no-puback' | 'other' {
  const m = answer.message ?? '';
  if (/not connected/.test(m)) return 'unreachable';
  if (/did not acknowledge/.test(m)) return 'no-puback';
  return 'other';
}

/** Answers by class: accepted (2xx), refused (503), anything else. */
export function classify(answers: readonly Answer[]): { accepted: string[]; refused: Answer[]; other: Answer[] } {
  const accepted: string[] = [];
  const refused: Answer[] = [];
  const other: Answer[] = [];
  for (const a of answers) {
    if (a.status >= 200 && a.status < 300) accepted.push(a.id);
    else if (a.status === 503) refused.push(a);
    else other.push(a);
  }
  return { accepted, refused, other };
}
