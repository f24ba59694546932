// Delivers outbox jobs through the lanes (lanes.ts). A job leaves the outbox only when
// Slack accepted it or refused it for good; this module is the failure policy: what a
// refusal, a rate limit, a transient failure or a failed outbox write leads to.
import type { Clock } from '../shared/clock.js';
import { backoffDelay } from '../shared/backoff.js';
import type { SlackConfig } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import { classify, isAuthError, type SlackApi } from './api.js';
import { commit, Deliveries, StoreError, type ReportFn } from './deliveries.js';
import { eventIds, Sender } from './exactly-once.js';
import { HistoryWatch } from './history-watch.js';
import { JobStates } from './job-state.js';
import { Lanes, type Lane } from './lanes.js';
import type { Job, Outbox } from './outbox.js';
import { People } from './people.js';
import type { ThreadBook } from './thread-book.js';
import type { TokenCheck } from './token-check.js';

export type { ReportFn } from './deliveries.js';

export interface DispatcherOptions {
  api: SlackApi;
  outbox: Outbox;
  config: SlackConfig;
  clock: Clock;
  logger: Logger;
  report: ReportFn;
  threads: ThreadBook;
  /** Counts each 429 from Slack (bellhop_slack_rate_limited_total). */
  onRateLimited?: () => void;
  /** Holds every lane while Slack refuses the bot token, and learns from each outcome. */
  token?: TokenCheck;
}

export class Dispatcher {
  #opts: DispatcherOptions;
  #log: Logger;
  #lanes: Lanes;
  #states = new JobStates();
  #deliveries: Deliveries;
  #history: HistoryWatch | undefined;

  constructor(opts: DispatcherOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    const token = opts.token;
    this.#lanes = new Lanes(opts.config.limiter, opts.clock, (lane, job) => this.#attempt(lane, job), () => token?.holding ?? false);
    token?.onRestored(() => this.#lanes.wake());
    // A dry run posts nothing, so there is nothing to look for and no history to read.
    if (token && token.health.state !== 'dry_run') {
      this.#history = new HistoryWatch({ api: opts.api, clock: opts.clock, logger: opts.logger, onChange: (health) => token.exactlyOnce(health) });
    }
    const sender = new Sender({ api: opts.api, outbox: opts.outbox, config: opts.config, clock: opts.clock, logger: opts.logger, states: this.#states, history: this.#history });
    this.#deliveries = new Deliveries({
      api: opts.api,
      outbox: opts.outbox,
      config: opts.config,
      people: new People(opts.api, opts.clock),
      sender,
      threads: opts.threads,
      report: opts.report,
      enqueue: (job) => this.enqueue(job),
    });
  }

  enqueue(job: Job): void {
    if (this.#lanes.stopping) return;
    // Only jobs read back from the outbox come here already attempted (a crash or a restart).
    if (job.kind !== 'update' && job.attempt) this.#states.set(job.seq, 'uncertain', true);
    const lane = this.#lanes.lane(job.lane, job.target);
    const refused = this.#opts.token?.health.state === 'token_refused' ? this.#opts.token.health.reason : undefined;
    if (refused) this.#reportRetrying(job, `Slack refused the bot token (${refused})`);
    else if (lane.lastFailure) this.#reportRetrying(job, lane.lastFailure);
    this.#lanes.push(lane, job);
  }

  /** Jobs waiting in the lanes (not counting digest windows). */
  get queued(): number {
    return this.#lanes.queued;
  }

  /** An attempt in flight finishes and records its outcome, so it is not posted again after a restart. */
  stop(): Promise<void> {
    this.#history?.stop();
    return this.#lanes.stop();
  }

  /** True when the job is finished with (delivered or given up). */
  async #attempt(lane: Lane, job: Job): Promise<boolean> {
    try {
      await this.#deliveries.run(lane, job);
      this.#opts.token?.worked();
      lane.failures = 0;
      lane.lastFailure = undefined;
      this.#states.forget(job.seq);
      return true;
    } catch (err) {
      return this.#failed(lane, job, err);
    }
  }

  async #failed(lane: Lane, job: Job, err: unknown): Promise<boolean> {
    const { clock, config } = this.#opts;
    const ids = eventIds(job);
    const log = this.#log.child({ eventId: ids[0], lane: lane.key, job: job.kind });
    if (err instanceof StoreError) {
      // Posting again now would be a sure duplicate. The job stays on disk with Slack's answer,
      // which a restart records; without the answer it is marked attempted, so after a restart
      // it is looked for in Slack first (posted again only if that lookup cannot be made:
      // at-least-once, never lost). Unless the mark failed too: then the disk has no (or an
      // older) attempt, and a restart may post it again without looking.
      const unmarked = this.#states.has(job.seq, 'unmarked');
      const answered = job.kind !== 'update' && job.attempt?.posted !== undefined;
      this.#states.forget(job.seq);
      if (answered) {
        log.error({ err: err.message }, "Slack took the message but the outbox could not record it; Slack's answer is saved on the job, so after a restart it is recorded as posted without being posted again");
      } else if (unmarked) {
        log.error({ err: err.message }, 'Slack took the message but the outbox could not record it, nor save the attempt before it; after a restart it may be posted again without a lookup, so it may show twice');
      } else {
        log.error({ err: err.message }, 'Slack took the message but the outbox could not record it; after a restart it is looked for in Slack before being posted again');
      }
      return true;
    }
    const failure = classify(err);
    this.#opts.token?.failed(err);
    if (failure.kind === 'permanent') {
      log.error({ eventIds: ids, error: failure.reason }, 'Slack refused the message for good; giving up on it');
      try {
        await commit(this.#opts.outbox, (tx) => tx.deleteJob(job));
      } catch (storeErr) {
        log.error({ err: (storeErr as Error).message }, 'could not remove a refused job from the outbox');
      }
      this.#states.forget(job.seq);
      if (job.kind !== 'update') for (const eventId of ids) this.#opts.report({ eventId, status: 'failed', error: failure.reason });
      return true;
    }
    if (this.#opts.token && isAuthError(err)) {
      // Said once, with its fix, by the token check, which now holds every lane until the
      // token works: no back-off of this lane's own, and no log line per message.
      const reason = `Slack refused the bot token (${failure.reason})`;
      log.debug({ reason }, 'Slack did not take the message; held until the token works');
      lane.lastFailure = reason;
      for (const held of lane.queue) this.#reportRetrying(held, reason);
      return false;
    }
    let backoff: number;
    if (failure.kind === 'rate-limited') {
      // Slack said when to come back. Counted as a failure, a spell of 429s would make the next
      // 5xx wait as if Slack had been down all along (a minute instead of retry.minMs).
      this.#opts.onRateLimited?.();
      backoff = Math.max(failure.retryAfterMs, config.limiter.intervalMs);
    } else {
      lane.failures += 1;
      backoff = backoffDelay(lane.failures, { baseMs: config.retry.minMs, maxMs: config.retry.maxMs });
    }
    lane.limiter.pause(clock.now(), backoff);
    const limited = failure.kind === 'rate-limited';
    log[limited ? 'info' : 'warn']({ reason: failure.reason, retryInMs: backoff, ...(limited ? {} : { attempt: lane.failures }) }, 'Slack did not take the message; will retry');
    lane.lastFailure = failure.reason;
    // Everything queued behind it waits for the same channel: say so for each, once.
    for (const queued of lane.queue) this.#reportRetrying(queued, failure.reason);
    return false;
  }

  #reportRetrying(job: Job, reason: string): void {
    if (job.kind === 'update' || this.#states.has(job.seq, 'retrying')) return;
    this.#states.set(job.seq, 'retrying', true);
    for (const eventId of eventIds(job)) this.#opts.report({ eventId, status: 'retrying', error: reason });
  }
}
