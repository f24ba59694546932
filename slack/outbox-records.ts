// What the Slack outbox stores, section by section: the event records (which double as the
// dedup memory), the jobs, the thread roots, the channel ids learned from Slack, the
// order of arrival (for pruning), and the outbox's own id.
import type { Envelope } from '../shared/envelope.js';
import type { RangNote } from './render.js';
import type { Target } from './router.js';

export interface MessageRef {
  kind: 'message' | 'reply' | 'digest';
  lane: string;
  target: Target;
  channel: string;
  ts: string;
  /** How many rings the posted version shows; fewer than the record has = needs an update. */
  rangsShown: number;
  /** For replies: which repeat this was. */
  nth?: number;
}

export interface EventRecord {
  seq: number;
  event: Envelope;
  rangs: RangNote[];
  refs: MessageRef[];
  /** On the first message of a thread: how often the error was seen. */
  repeats?: { count: number; lastAt: string };
}

interface JobBase {
  seq: number;
  lane: string;
  target: Target;
}

/** Where a post or digest was sent: kept from its first attempt on, so a retry goes (and a lookup looks) there. */
export interface Destination {
  /** What chat.postMessage was given: #name, a channel id, or a user id (a DM). */
  postedTo: string;
  /** The channel id, when known. */
  channel?: string;
  /** A reply: the thread and its first message's event, and which repeat this is. */
  threadTs?: string;
  rootEventId?: string;
  nth?: number;
}

/** Saved on a job before each chat.postMessage: Slack may have it even if we never heard back. */
export interface Attempt {
  /** When the first attempt was made (epoch ms). */
  at: number;
  /** When the last one was. */
  lastAt: number;
  n: number;
  to: Destination;
  /**
   * Slack's answer, saved the moment it came (before the outcome is recorded in the write
   * queue): a restart records the job as posted from it, with no need to look in Slack.
   */
  posted?: { channel: string; ts: string };
}

export type PostJob = JobBase & { kind: 'post'; eventId: string; type: string; digest: boolean; fingerprint?: string; attempt?: Attempt };
export type DigestJob = JobBase & { kind: 'digest'; type: string; eventIds: string[]; total: number; attempt?: Attempt };
export type UpdateJob = JobBase & { kind: 'update'; eventId: string; channel: string; ts: string };
export type Job = PostJob | DigestJob | UpdateJob;

/** Where repeats of one error (per channel) are threaded. */
export interface ThreadRoot {
  rootEventId: string;
  channel: string;
  ts: string;
  lastAt: number;
}

/** The LevelDB sublevels and what each holds. */
export interface Sections {
  events: EventRecord;
  jobs: Job;
  threads: ThreadRoot;
  channels: { id: string };
  order: { id: string };
  meta: { id: string };
}

export type Section = keyof Sections;

/** One write of an atomic batch, typed by its section. */
export type BatchOp = {
  [S in Section]: { type: 'put'; where: S; key: string; value: Sections[S] } | { type: 'del'; where: S; key: string };
}[Section];
