// Delivers outbox jobs: one lane per channel (or DM), each with its own FIFO queue,
// its own limiter and its own back-off, so one rate-limited or failing channel never
// holds up the others. A job leaves the outbox only when Slack accepted it or
// refused it for good.
import { WebAPIPlatformError } from '@slack/web-api';
import type { Clock } from '../../shared/clock.js';
import type { SlackConfig } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logger.js';
import type { DeliveryReport } from '../../shared/messages.js';
import { classify, type PostArgs, type SlackApi } from './api.js';
import { ChannelLimiter } from './limiter.js';
import { People } from './people.js';
import type { DigestJob, EventRecord, Job, MessageRef, Outbox, PostJob, ThreadRoot, Tx, UpdateJob } from './outbox.js';
import { renderDigest, renderEvent, renderReply, textOnly, type RenderedMessage } from './render.js';
import type { Target } from './router.js';

export type ReportFn = (report: Omit<DeliveryReport, 'at'>) => void;

export interface DispatcherOptions {
  api: SlackApi;
  outbox: Outbox;
  config: SlackConfig;
  clock: Clock;
  logger: Logger;
  report: ReportFn;
  threads: Map<string, ThreadRoot>;
}

interface Lane {
  key: string;
  target: Target;
  queue: Job[];
  limiter: ChannelLimiter;
  failures: number;
  /** Why the last attempt failed, while the lane is backing off. */
  lastFailure: string | undefined;
  running: Promise<void> | undefined;
  idleSince: number;
}

interface Sleeper {
  timer: NodeJS.Timeout;
  wake: () => void;
}

/** A write to the outbox failed after Slack accepted the message. */
class StoreError extends Error {}

const LANE_IDLE_MS = 60_000;
const THREADS_SWEEP_AT = 500;

export class Dispatcher {
  #opts: DispatcherOptions;
  #log: Logger;
  #lanes = new Map<string, Lane>();
  #sleepers = new Set<Sleeper>();
  #stopping = false;
  #retrying = new Set<number>();
  #people: People;

  constructor(opts: DispatcherOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.#people = new People(opts.api, opts.clock);
  }

  enqueue(job: Job): void {
    if (this.#stopping) return;
    const lane = this.#lane(job.lane, job.target);
    lane.queue.push(job);
    if (lane.lastFailure) this.#reportRetrying(job, lane.lastFailure);
    this.#kick(lane);
  }

  /** Jobs waiting in the lanes (not counting digest windows). */
  get queued(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.queue.length;
    return n;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const s of this.#sleepers) {
      this.#opts.clock.clearTimeout(s.timer);
      s.wake();
    }
    this.#sleepers.clear();
    // An attempt in flight finishes and records its outcome, so it is not posted again after a restart.
    await Promise.all([...this.#lanes.values()].map((lane) => lane.running));
  }

  #lane(key: string, target: Target): Lane {
    let lane = this.#lanes.get(key);
    if (!lane) {
      const now = this.#opts.clock.now();
      this.#sweep(now);
      lane = { key, target, queue: [], limiter: new ChannelLimiter(this.#opts.config.limiter, now), failures: 0, lastFailure: undefined, running: undefined, idleSince: now };
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  #kick(lane: Lane): void {
    if (lane.running) return;
    lane.running = this.#drain(lane).finally(() => {
      lane.running = undefined;
      lane.idleSince = this.#opts.clock.now();
      // Something was queued while the loop was finishing.
      if (lane.queue.length > 0 && !this.#stopping) this.#kick(lane);
    });
  }

  /** Forgets lanes idle long enough for their limiter to be full again (hundreds of project channels). */
  #sweep(now: number): void {
    const { intervalMs, burst } = this.#opts.config.limiter;
    const refilled = Math.max(LANE_IDLE_MS, intervalMs * burst);
    for (const [key, lane] of this.#lanes) {
      if (!lane.running && lane.queue.length === 0 && now - lane.idleSince > refilled) this.#lanes.delete(key);
    }
  }

  async #drain(lane: Lane): Promise<void> {
    const { clock } = this.#opts;
    while (!this.#stopping && lane.queue.length > 0) {
      const wait = lane.limiter.delay(clock.now());
      if (wait > 0) {
        await this.#sleep(wait);
        continue;
      }
      const job = lane.queue[0]!;
      lane.limiter.take(clock.now());
      if (await this.#attempt(lane, job)) lane.queue.shift();
    }
  }

  /** True when the job is finished with (delivered or given up). */
  async #attempt(lane: Lane, job: Job): Promise<boolean> {
    try {
      if (job.kind === 'post') await this.#post(lane, job);
      else if (job.kind === 'digest') await this.#digest(lane, job);
      else await this.#update(lane, job);
      lane.failures = 0;
      lane.lastFailure = undefined;
      this.#retrying.delete(job.seq);
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
      // Posting again now would be a sure duplicate; the job stays on disk, so at worst a
      // restart posts it a second time (at-least-once, never lost).
      log.error({ err: err.message }, 'Slack took the message but the outbox could not record it; it may be posted again after a restart');
      return true;
    }
    const failure = classify(err);
    if (failure.kind === 'permanent') {
      log.error({ eventIds: ids, error: failure.reason }, 'Slack refused the message for good; giving up on it');
      try {
        await this.#commit((tx) => tx.deleteJob(job));
      } catch (storeErr) {
        log.error({ err: (storeErr as Error).message }, 'could not remove a refused job from the outbox');
      }
      this.#retrying.delete(job.seq);
      if (job.kind !== 'update') for (const eventId of ids) this.#opts.report({ eventId, status: 'failed', error: failure.reason });
      return true;
    }
    lane.failures += 1;
    const backoff =
      failure.kind === 'rate-limited'
        ? Math.max(failure.retryAfterMs, config.limiter.intervalMs)
        : Math.min(config.retry.maxMs, config.retry.minMs * 2 ** Math.min(lane.failures - 1, 20));
    lane.limiter.pause(clock.now(), backoff);
    const level = failure.kind === 'rate-limited' ? 'info' : 'warn';
    log[level]({ reason: failure.reason, retryInMs: backoff, attempt: lane.failures }, 'Slack did not take the message; will retry');
    lane.lastFailure = failure.reason;
    // Everything queued behind it waits for the same channel: say so for each, once.
    for (const queued of lane.queue) this.#reportRetrying(queued, failure.reason);
    return false;
  }

  #reportRetrying(job: Job, reason: string): void {
    if (job.kind === 'update' || this.#retrying.has(job.seq)) return;
    this.#retrying.add(job.seq);
    for (const eventId of eventIds(job)) this.#opts.report({ eventId, status: 'retrying', error: reason });
  }

  async #post(lane: Lane, job: PostJob): Promise<void> {
    const { outbox, clock, config } = this.#opts;
    const record = await outbox.getRecord(job.eventId);
    if (!record) return this.#commit((tx) => tx.deleteJob(job));
    const template = config.templates[record.event.type];
    const threadKey = job.fingerprint ? `${lane.key}\u0000${job.fingerprint}` : undefined;
    const root = threadKey ? this.#liveRoot(threadKey, job.eventId) : undefined;

    if (threadKey && root) {
      const rootRecord = await outbox.getRecord(root.rootEventId);
      const nth = (rootRecord?.repeats?.count ?? 1) + 1;
      const message = renderReply(view(record), nth, template);
      const res = await this.#postMessage({ channel: root.channel, threadTs: root.ts, ...message });
      const followUps = await this.#commit(async (tx) => {
        tx.deleteJob(job);
        const jobs = await this.#addRef(tx, job.eventId, { kind: 'reply', lane: lane.key, target: lane.target, channel: res.channel, ts: res.ts, rangsShown: record.rangs.length, nth });
        const rootRec = await tx.record(root.rootEventId);
        if (rootRec) {
          rootRec.repeats = { count: nth, lastAt: record.event.time };
          tx.putRecord(root.rootEventId, rootRec);
          const rootRef = rootRec.refs.find((r) => r.channel === root.channel && r.ts === root.ts);
          if (rootRef) jobs.push(this.#updateJob(root.rootEventId, rootRef));
        }
        const moved: ThreadRoot = { ...root, lastAt: clock.now() };
        tx.putThread(threadKey, moved);
        tx.ops.push(() => this.#opts.threads.set(threadKey, moved));
        for (const j of jobs) tx.putJob(j);
        return jobs;
      });
      for (const j of followUps) this.enqueue(j);
      this.#opts.report({ eventId: job.eventId, status: 'threaded', channel: res.channel, ts: res.ts });
      return;
    }

    const channel = await this.#people.channelFor(lane.target);
    const message = renderEvent({ event: record.event, rangs: record.rangs, repeats: record.repeats }, template);
    const res = await this.#postMessage({ channel, ...message });
    const followUps = await this.#commit(async (tx) => {
      tx.deleteJob(job);
      const jobs = await this.#addRef(tx, job.eventId, { kind: 'message', lane: lane.key, target: lane.target, channel: res.channel, ts: res.ts, rangsShown: record.rangs.length }, (rec) => {
        if (threadKey) rec.repeats = { count: 1, lastAt: rec.event.time };
      });
      if (threadKey) {
        const started: ThreadRoot = { rootEventId: job.eventId, channel: res.channel, ts: res.ts, lastAt: clock.now() };
        tx.putThread(threadKey, started);
        tx.ops.push(() => this.#opts.threads.set(threadKey, started));
        this.#forgetOldThreads(tx);
      }
      for (const j of jobs) tx.putJob(j);
      return jobs;
    });
    for (const j of followUps) this.enqueue(j);
    this.#opts.report({ eventId: job.eventId, status: 'posted', channel: res.channel, ts: res.ts });
  }

  async #digest(lane: Lane, job: DigestJob): Promise<void> {
    const { outbox, config } = this.#opts;
    const records = (await Promise.all(job.eventIds.map((id) => outbox.getRecord(id)))).filter((r): r is EventRecord => r !== undefined);
    if (records.length === 0) return this.#commit((tx) => tx.deleteJob(job));
    const channel = await this.#people.channelFor(lane.target);
    const message = renderDigest({
      type: job.type,
      events: records.map((r) => r.event),
      windowMs: config.digest.windowMs,
      postedIndividually: Math.max(0, job.total - job.eventIds.length),
      maxListed: config.digest.maxListed,
      template: config.templates[job.type],
    });
    const res = await this.#postMessage({ channel, ...message });
    await this.#commit(async (tx) => {
      tx.deleteJob(job);
      for (const record of records) {
        await this.#addRef(tx, record.event.id, { kind: 'digest', lane: lane.key, target: lane.target, channel: res.channel, ts: res.ts, rangsShown: 0 });
      }
    });
    for (const record of records) this.#opts.report({ eventId: record.event.id, status: 'digested', channel: res.channel, ts: res.ts });
  }

  async #update(lane: Lane, job: UpdateJob): Promise<void> {
    const { outbox, config } = this.#opts;
    // A later update of the same message in this lane will show everything; skip this one.
    const superseded = lane.queue.some((j) => j !== job && j.kind === 'update' && j.channel === job.channel && j.ts === job.ts);
    const record = superseded ? undefined : await outbox.getRecord(job.eventId);
    const ref = record?.refs.find((r) => r.channel === job.channel && r.ts === job.ts);
    if (!record || !ref) return this.#commit((tx) => tx.deleteJob(job));
    const template = config.templates[record.event.type];
    const message = ref.kind === 'reply' ? renderReply(view(record), ref.nth ?? 2, template) : renderEvent(view(record), template);
    await this.#withBlocksFallback(message, (m) => this.#opts.api.update({ channel: job.channel, ts: job.ts, ...m }));
    const followUps = await this.#commit(async (tx) => {
      tx.deleteJob(job);
      const rec = await tx.record(job.eventId);
      const current = rec?.refs.find((r) => r.channel === job.channel && r.ts === job.ts);
      if (!rec || !current) return [];
      current.rangsShown = record.rangs.length;
      tx.putRecord(job.eventId, rec);
      const jobs = rec.rangs.length > current.rangsShown ? [this.#updateJob(job.eventId, current)] : [];
      for (const j of jobs) tx.putJob(j);
      return jobs;
    });
    for (const j of followUps) this.enqueue(j);
    this.#opts.report({ eventId: job.eventId, status: 'updated', channel: job.channel, ts: job.ts });
  }

  /** Records where an event was posted; returns an update job if rings arrived meanwhile. */
  async #addRef(tx: Tx, eventId: string, ref: MessageRef, also?: (rec: EventRecord) => void): Promise<Job[]> {
    const rec = await tx.record(eventId);
    if (!rec) return [];
    rec.refs.push(ref);
    also?.(rec);
    tx.putRecord(eventId, rec);
    return ref.kind !== 'digest' && rec.rangs.length > ref.rangsShown ? [this.#updateJob(eventId, ref)] : [];
  }

  #updateJob(eventId: string, ref: MessageRef): UpdateJob {
    return { seq: this.#opts.outbox.nextSeq(), kind: 'update', lane: ref.lane, target: ref.target, eventId, channel: ref.channel, ts: ref.ts };
  }

  /** Threads past their window are forgotten, on disk too, once there are many. */
  #forgetOldThreads(tx: Tx): void {
    const threads = this.#opts.threads;
    if (threads.size < THREADS_SWEEP_AT) return;
    const now = this.#opts.clock.now();
    for (const [key, root] of threads) {
      if (now - root.lastAt <= this.#opts.config.threads.windowMs) continue;
      tx.deleteThread(key);
      tx.ops.push(() => threads.delete(key));
    }
  }

  #liveRoot(key: string, eventId: string): ThreadRoot | undefined {
    const root = this.#opts.threads.get(key);
    if (!root || root.rootEventId === eventId) return undefined;
    if (this.#opts.clock.now() - root.lastAt > this.#opts.config.threads.windowMs) {
      this.#opts.threads.delete(key);
      return undefined;
    }
    return root;
  }

  async #postMessage(args: PostArgs): Promise<{ channel: string; ts: string }> {
    const { channel, threadTs } = args;
    return this.#withBlocksFallback(args, (m) => this.#opts.api.postMessage({ channel, threadTs, ...m }));
  }

  /** Slack refusing our blocks should not lose the event: send the text alone. */
  async #withBlocksFallback<T>(message: RenderedMessage, send: (m: RenderedMessage) => Promise<T>): Promise<T> {
    try {
      return await send(message);
    } catch (err) {
      if (!(err instanceof WebAPIPlatformError) || err.data.error !== 'invalid_blocks' || message.blocks.length === 0) throw err;
      this.#log.warn({ error: err.data.error }, 'Slack refused the blocks; sending the text alone');
      return send(textOnly(message));
    }
  }

  async #commit<T>(fn: (tx: Tx) => Promise<T> | T): Promise<T> {
    try {
      return await this.#opts.outbox.transaction(fn);
    } catch (err) {
      throw new StoreError((err as Error).message);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        timer: this.#opts.clock.setTimeout(() => {
          this.#sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.#sleepers.add(sleeper);
    });
  }
}

function view(record: EventRecord) {
  return { event: record.event, rangs: record.rangs, repeats: record.repeats };
}

function eventIds(job: Job): string[] {
  return job.kind === 'digest' ? job.eventIds : [job.eventId];
}
