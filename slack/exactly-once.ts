// Exactly once to the eye: a post or digest is saved as attempted (with where it goes)
// right before chat.postMessage, and saved again with Slack's answer right after it, and the
// message carries the job's key in its metadata. A job that may have reached Slack without
// us hearing back (attempted before a restart with no answer saved, or after a timeout,
// dropped connection or 5xx) is first looked for in its channel or thread; if it is there,
// it is recorded as posted instead of being posted again. So only a kill between Slack
// storing a post and its answer being saved needs a lookup, and only where history is
// unreadable can it show twice (said in the sink's health, see history-watch.ts).
import { WebAPIPlatformError } from '@slack/web-api';
import type { Clock } from '../shared/clock.js';
import type { SlackConfig } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import { classify, describeError, outcomeUnknown, type SlackApi } from './api.js';
import { lookupFix, type HistoryWatch } from './history-watch.js';
import type { JobStates } from './job-state.js';
import type { Lane } from './lanes.js';
import type { Destination, DigestJob, Job, Outbox, PostJob } from './outbox.js';
import { textOnly, type RenderedMessage } from './render.js';

/** What sending a job came to: Slack's channel id and ts, and whether it was found already posted. */
export interface Sent {
  channel: string;
  ts: string;
  found: boolean;
}

export interface SenderOptions {
  api: SlackApi;
  outbox: Outbox;
  config: SlackConfig;
  clock: Clock;
  logger: Logger;
  states: JobStates;
  /** Learns from each lookup (and checks each channel once) whether history can be read. */
  history?: HistoryWatch | undefined;
}

/** A lookup searches from this long before the first attempt (our clock and Slack's may differ a little)... */
const LOOKUP_BEFORE_MS = 10_000;
/** ...to this long after the last attempt plus the request timeout (Slack may finish a request we gave up on). */
const LOOKUP_AFTER_MS = 60_000;

export class Sender {
  #opts: SenderOptions;
  /** Channel and reason pairs where a lookup could not be made, already warned about. */
  #lookupWarned = new Set<string>();

  constructor(opts: SenderOptions) {
    this.#opts = opts;
  }

  /**
   * Gets a post or digest into Slack once: looks for it first when an earlier attempt may
   * have landed, saves the attempt, then posts it with the job's key in its metadata.
   */
  async send(lane: Lane, job: PostJob | DigestJob, to: Destination, message: RenderedMessage): Promise<Sent> {
    const { outbox, clock, api, states, logger } = this.#opts;
    const jobKey = `${outbox.id}:${job.seq}`;
    const answered = job.attempt?.posted;
    if (answered) {
      logger.info({ eventIds: eventIds(job), channel: answered.channel, ts: answered.ts }, "Slack's answer to an earlier attempt was saved; recording that post, not posting it again");
      return { ...answered, found: true };
    }
    if (states.has(job.seq, 'uncertain') && job.attempt) {
      const found = await this.#lookup(lane, job, job.attempt.to, jobKey);
      if (found) return found;
      states.set(job.seq, 'uncertain', false);
    }
    const now = clock.now();
    const channel = to.channel ?? outbox.channelId(to.postedTo);
    job.attempt = { at: job.attempt?.at ?? now, lastAt: now, n: (job.attempt?.n ?? 0) + 1, to: channel ? { ...to, channel } : to };
    try {
      await outbox.markAttempted(job);
      states.set(job.seq, 'unmarked', false);
    } catch (err) {
      // Posting anyway keeps the event (a crash now could show it twice); not posting would stall the channel.
      states.set(job.seq, 'unmarked', true);
      logger.error({ eventIds: eventIds(job), err: (err as Error).message }, 'could not save the attempt in the outbox; posting anyway');
    }
    let res: { channel: string; ts: string };
    try {
      res = await this.withBlocksFallback(message, (m) => api.postMessage({ channel: to.postedTo, threadTs: to.threadTs, jobKey, ...m }));
    } catch (err) {
      if (outcomeUnknown(err)) states.set(job.seq, 'uncertain', true);
      throw err;
    }
    await this.#savePosted(job, res);
    this.#opts.history?.check({ channel: res.channel, postedTo: to.postedTo, threadTs: to.threadTs, jobKey, ts: res.ts });
    return { ...res, found: false };
  }

  /**
   * Saves Slack's answer on the job before anything else is awaited: recording the outcome waits
   * its turn in the outbox's write queue, and a kill in that wait would leave a post that only a
   * lookup (impossible without the history scopes) keeps from being sent again.
   */
  async #savePosted(job: PostJob | DigestJob, res: { channel: string; ts: string }): Promise<void> {
    const attempt = job.attempt!;
    const posted = { channel: res.channel, ts: res.ts };
    try {
      await this.#opts.outbox.markPosted({ ...job, attempt: { ...attempt, posted } });
      // Only once it is on disk: the dispatcher tells from it what a restart will do.
      attempt.posted = posted;
    } catch (err) {
      // The recording of the outcome, next, most likely fails too and says what that means.
      this.#opts.logger.debug({ eventIds: eventIds(job), err: (err as Error).message }, "could not save Slack's answer on the job");
    }
  }

  /** Slack refusing our blocks should not lose the event: send the text alone. */
  async withBlocksFallback<T>(message: RenderedMessage, send: (m: RenderedMessage) => Promise<T>): Promise<T> {
    try {
      return await send(message);
    } catch (err) {
      if (!(err instanceof WebAPIPlatformError) || err.data.error !== 'invalid_blocks' || message.blocks.length === 0) throw err;
      this.#opts.logger.warn({ error: err.data.error }, 'Slack refused the blocks; sending the text alone');
      return send(textOnly(message));
    }
  }

  /**
   * Looks for an earlier attempt's message in the channel (or thread). A lookup Slack
   * refuses (a missing *:history scope, the bot not in the channel) is warned about once
   * per channel and the job is posted again; a transient failure retries the job later.
   */
  async #lookup(lane: Lane, job: PostJob | DigestJob, to: Destination, jobKey: string): Promise<Sent | undefined> {
    const { outbox, api, config } = this.#opts;
    const attempt = job.attempt!;
    const log = this.#opts.logger.child({ eventId: eventIds(job)[0], lane: lane.key, job: job.kind });
    let channel = to.channel ?? outbox.channelId(to.postedTo);
    try {
      channel ??= await api.channelId(to.postedTo);
      const result = await api.findPosted({
        channel,
        threadTs: to.threadTs,
        jobKey,
        oldestMs: attempt.at - LOOKUP_BEFORE_MS,
        latestMs: attempt.lastAt + config.requestTimeoutMs + LOOKUP_AFTER_MS,
      });
      this.#opts.history?.readable(channel);
      if (result.ts) {
        log.info({ channel, ts: result.ts, attempts: attempt.n }, 'found the message in Slack from an earlier attempt; not posting it again');
        return { channel, ts: result.ts, found: true };
      }
      if (!result.complete) this.#warnLookup(log, channel, 'the search stopped at its page limit', undefined);
      return undefined;
    } catch (err) {
      if (classify(err).kind !== 'permanent') throw err;
      const data = err instanceof WebAPIPlatformError ? (err.data as { error: string; needed?: string }) : undefined;
      const error = data?.error ?? describeError(err);
      this.#opts.history?.refused(channel ?? to.postedTo, to.postedTo, error, data?.needed);
      this.#warnLookup(log, channel ?? to.postedTo, error, data?.needed);
      return undefined;
    }
  }

  #warnLookup(log: Logger, channel: string, error: string, needed: string | undefined): void {
    // Per reason too: a channel that hit the page limit once must still hear "invite the bot".
    const key = `${channel}\u0000${error}`;
    if (this.#lookupWarned.has(key)) return;
    this.#lookupWarned.add(key);
    log.warn(
      { channel, error, ...(needed ? { neededScope: needed } : {}), ...fixField(lookupFix(error, needed)) },
      'cannot look in Slack for a message that may already be posted; posting it again, so it may show twice (warned once per channel and reason)',
    );
  }
}

function fixField(fix: string | undefined): { fix?: string } {
  return fix ? { fix } : {};
}

export function eventIds(job: Job): string[] {
  return job.kind === 'digest' ? job.eventIds : [job.eventId];
}
