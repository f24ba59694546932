// Exactly once to the eye: a post or digest is saved as attempted (with where it goes)
// before chat.postMessage, and the message carries the job's key in its metadata. A job
// that may have reached Slack without us hearing back (attempted before a restart, or
// after a timeout, dropped connection or 5xx) is first looked for in its channel or
// thread; if it is there, it is recorded as posted instead of being posted again.
import { WebAPIPlatformError } from '@slack/web-api';
import type { Clock } from '../shared/clock.js';
import type { SlackConfig } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import { classify, describeError, outcomeUnknown, type SlackApi } from './api.js';
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
    try {
      const res = await this.withBlocksFallback(message, (m) => api.postMessage({ channel: to.postedTo, threadTs: to.threadTs, jobKey, ...m }));
      return { ...res, found: false };
    } catch (err) {
      if (outcomeUnknown(err)) states.set(job.seq, 'uncertain', true);
      throw err;
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
      if (result.ts) {
        log.info({ channel, ts: result.ts, attempts: attempt.n }, 'found the message in Slack from an earlier attempt; not posting it again');
        return { channel, ts: result.ts, found: true };
      }
      if (!result.complete) this.#warnLookup(log, channel, 'the search stopped at its page limit', undefined);
      return undefined;
    } catch (err) {
      if (classify(err).kind !== 'permanent') throw err;
      const data = err instanceof WebAPIPlatformError ? (err.data as { error: string; needed?: string }) : undefined;
      this.#warnLookup(log, channel ?? to.postedTo, data?.error ?? describeError(err), data?.needed);
      return undefined;
    }
  }

  #warnLookup(log: Logger, channel: string, error: string, needed: string | undefined): void {
    // Per reason too: a channel that hit the page limit once must still hear "invite the bot".
    const key = `${channel}\u0000${error}`;
    if (this.#lookupWarned.has(key)) return;
    this.#lookupWarned.add(key);
    log.warn(
      { channel, error, ...(needed ? { neededScope: needed } : {}), ...lookupFix(error, needed) },
      'cannot look in Slack for a message that may already be posted; posting it again, so it may show twice (warned once per channel and reason)',
    );
  }
}

function lookupFix(error: string, needed: string | undefined): { fix?: string } {
  if (needed) return { fix: `add the scope ${needed} under OAuth & Permissions > Bot Token Scopes and reinstall the app` };
  if (error === 'not_in_channel') return { fix: 'invite the bot to the channel' };
  if (error === 'missing_scope') return { fix: 'add channels:history, groups:history and im:history under OAuth & Permissions > Bot Token Scopes and reinstall the app' };
  return {};
}

export function eventIds(job: Job): string[] {
  return job.kind === 'digest' ? job.eventIds : [job.eventId];
}
