// "Exactly once to the eye": what a person reading the fake Slack sees. Each soak event
// carries its id as its subject, which the sink shows in a post (header, section and
// text fallback), in a digest line, and in a thread reply; so an event is in a message
// when its id is written in it. An event is delivered when exactly one message shows it.
import type { FakeMessage, FakeSlack } from '../fake-slack/server.js';
import type { DeliveryReport, RangReport } from '../../shared/messages.js';

export interface Sighting {
  /** Event id -> how many messages show it. */
  perId: Map<string, number>;
  /** Channel id -> the event ids in the order a reader sees them (messages by ts, lines top to bottom). */
  perChannel: Map<string, string[]>;
  /** Digests that listed only some of their events ("…and N more"): the rest are invisible. */
  truncatedDigests: number;
  messages: number;
}

export function sightings(fake: FakeSlack, ids: RegExp): Sighting {
  const global = new RegExp(ids.source, 'g');
  const perId = new Map<string, number>();
  const perChannel = new Map<string, string[]>();
  let truncatedDigests = 0;
  const messages = [...fake.messages].sort((a, b) => a.ts.localeCompare(b.ts));
  for (const m of messages) {
    const { ids: shown, truncated } = idsIn(m, global);
    for (const id of shown) perId.set(id, (perId.get(id) ?? 0) + 1);
    const seq = perChannel.get(m.channel) ?? [];
    seq.push(...shown);
    perChannel.set(m.channel, seq);
    if (truncated) truncatedDigests += 1;
  }
  return { perId, perChannel, truncatedDigests, messages: messages.length };
}

// The drain polls thousands of messages; each is read again only when it was updated.
const read = new WeakMap<FakeMessage, { version: number; pattern: string; seen: Seen }>();

interface Seen {
  ids: string[];
  truncated: boolean;
}

/** The distinct ids a message shows, in reading order (blocks first; the text fallback repeats them). */
function idsIn(m: FakeMessage, global: RegExp): Seen {
  const cached = read.get(m);
  if (cached && cached.version === m.updates.length && cached.pattern === global.source) return cached.seen;
  const ids = new Set<string>();
  const blocks = JSON.stringify(m.blocks);
  for (const text of [blocks, m.text]) for (const match of text.matchAll(global)) ids.add(match[0]);
  const seen = { ids: [...ids], truncated: /…and \d+ more/.test(blocks) };
  read.set(m, { version: m.updates.length, pattern: global.source, seen });
  return seen;
}

export interface Tally {
  /** Accepted events shown in exactly one message. */
  once: number;
  /** Accepted events shown in more than one message. */
  duplicated: number;
  /** Accepted events shown nowhere. */
  lost: number;
  /** Ids of the lost and duplicated ones, a few, for the failure message. */
  examples: { lost: string[]; duplicated: string[] };
  /** Every lost id. */
  lostIds: string[];
}

export function tally(accepted: readonly string[], perId: ReadonlyMap<string, number>): Tally {
  const lost: string[] = [];
  const duplicated: string[] = [];
  let once = 0;
  for (const id of accepted) {
    const n = perId.get(id) ?? 0;
    if (n === 0) lost.push(id);
    else if (n === 1) once += 1;
    else duplicated.push(id);
  }
  return { once, duplicated: duplicated.length, lost: lost.length, examples: { lost: lost.slice(0, 10), duplicated: duplicated.slice(0, 10) }, lostIds: lost };
}

/** Places where a channel shows an event before one that was sent earlier to the same channel. */
export function outOfOrder(perChannel: ReadonlyMap<string, string[]>, sentOrder: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const seq of perChannel.values()) {
    let last = -1;
    for (const id of seq) {
      const at = sentOrder.get(id);
      if (at === undefined) continue;
      if (at < last) n += 1;
      else last = at;
    }
  }
  return n;
}

/**
 * Waits until every accepted event is shown in Slack and Slack has then been quiet for
 * `quietMs` (a duplicate would come right behind), or until Slack has been quiet for
 * `giveUpQuietMs` with events still missing, or the deadline. Resolves with how long the
 * drain took (from the call until the last accepted event was shown) and when that was.
 */
export async function drain(
  fake: FakeSlack,
  ids: RegExp,
  accepted: readonly string[],
  { quietMs = 3000, giveUpQuietMs = 20_000, deadlineMs = 120_000 } = {},
): Promise<{ ms: number; complete: boolean; completeAt: number | undefined }> {
  const started = Date.now();
  let lastChange = Date.now();
  let lastCount = -1;
  let completeAt: number | undefined;
  for (;;) {
    const activity = fake.calls.length;
    if (activity !== lastCount) {
      lastCount = activity;
      lastChange = Date.now();
    }
    if (completeAt === undefined) {
      const { perId } = sightings(fake, ids);
      if (accepted.every((id) => perId.has(id))) completeAt = Date.now();
    }
    const quietFor = Date.now() - lastChange;
    if (completeAt !== undefined && quietFor >= quietMs) return { ms: completeAt - started, complete: true, completeAt };
    if (quietFor >= giveUpQuietMs || Date.now() - started > deadlineMs) return { ms: Date.now() - started, complete: completeAt !== undefined, completeAt };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The reports the parts published (seen by the witness, each distinct report once) against
 * what the server counted from them on /metrics: equal when no report was lost on its way
 * to the server, whatever the broker went through.
 */
export interface ReportCounts {
  strikesReported: number;
  strikesAtServer: number;
  deliveredReported: Record<string, number>;
  deliveredAtServer: Record<string, number>;
}

export async function reportCounts(serverUrl: string, witness: { rangs: readonly RangReport[]; delivered: readonly DeliveryReport[] }): Promise<ReportCounts> {
  const rangs = new Map(witness.rangs.map((r) => [`${r.eventId}|${r.deviceId}|${r.at}`, r]));
  const delivered = new Map(witness.delivered.map((r) => [`${r.eventId}|${r.status}|${r.at}`, r]));
  const deliveredReported: Record<string, number> = {};
  for (const r of delivered.values()) deliveredReported[r.status] = (deliveredReported[r.status] ?? 0) + 1;
  const metrics = await (await fetch(`${serverUrl}/metrics`)).text();
  const deliveredAtServer: Record<string, number> = {};
  for (const m of metrics.matchAll(/^bellhop_slack_deliveries_total\{status="(\w+)"\} (\d+)/gm)) deliveredAtServer[m[1]!] = Number(m[2]);
  const strikesAtServer = [...metrics.matchAll(/^bellhop_strikes_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  return { strikesReported: [...rangs.values()].reduce((n, r) => n + r.strikes, 0), strikesAtServer, deliveredReported, deliveredAtServer };
}
