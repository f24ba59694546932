// Delivers outbox jobs: one lane per channel (or DM), each with its own FIFO queue,
// its own limiter and its own back-off, so one rate-limited or failing channel never
// holds up the others. A job leaves the outbox only when Slack accepted it or
// refused it for good.
//
// Exactly once to the eye: a post or digest is saved as attempted (with where it goes)
// before chat.postMessage, and the message carries the job's key in its metadata. A job
// that may have reached Slack without us hearing back (attempted before a restart, or
// after a timeout, dropped connection or 5xx) is first looked for in its channel or
// thread; if it is there, it is recorded as posted instead of being posted again.
import { WebAPIPlatformError } from '@slack/web-api';
import type { Clock } from '../shared/clock.js';
import type { SlackConfig } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { DeliveryReport } from '../shared/messages.js';
import { classify, describeError, outcomeUnknown, type SlackApi } from './api.js';
import { ChannelLimiter } from './limiter.js';
import { People } from './people.js';
import type { Destination, DigestJob, EventRecord, Job, MessageRef, Outbox, PostJob, ThreadRoot, Tx, UpdateJob } from './outbox.js';
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

/** What sending a job came to: Slack's channel id and ts, and whether it was found already posted. */
interface Sent {
  channel: string;
  ts: string;
  found: boolean;
}

const LANE_IDLE_MS = 60_000;
const THREADS_SWEEP_AT = 500;
/** A lookup searches from this long before the first attempt (our clock and Slack's may differ a little)... */
const LOOKUP_BEFORE_MS = 10_000;
/** ...to this long after the last attempt plus the request timeout (Slack may finish a request we gave up on). */
const LOOKUP_AFTER_MS = 60_000;

export class Dispatcher {
  #opts: DispatcherOptions;
  #log: Logger;
  #lanes = new Map<string, Lane>();
  #sleepers = new Set<Sleeper>();
  #stopping = false;
  #retrying = new Set<number>();
  /** Jobs that may already be in Slack: looked for before they are sent again. */
  #uncertain = new Set<number>();
  /** Channel and reason pairs where a lookup could not be made, already warned about. */
  #lookupWarned = new Set<string>();
  /** Jobs whose latest attempt mark could not be saved: a restart would not know to look for them. */
  #unmarked = new Set<number>();
  #people: People;

  constructor(opts: DispatcherOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.#people = new People(opts.api, opts.clock);
  }

  enqueue(job: Job): void {
    if (this.#stopping) return;
    // Only jobs read back from the outbox come here already attempted (a crash or a restart).
    if (job.kind !== 'update' && job.attempt) this.#uncertain.add(job.seq);
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
      this.#finished(job);
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
      // Posting again now would be a sure duplicate. The job stays on disk, marked attempted,
      // so after a restart it is looked for in Slack first (posted again only if that lookup
      // cannot be made: at-least-once, never lost). Unless the mark failed too: then the disk
      // has no (or an older) attempt, and a restart may post it again without looking.
      const unmarked = this.#unmarked.has(job.seq);
      this.#finished(job);
      if (unmarked) {
        log.error({ err: err.message }, 'Slack took the message but the outbox could not record it, nor save the attempt before it; after a restart it may be posted again without a lookup, so it may show twice');
      } else {
        log.error({ err: err.message }, 'Slack took the message but the outbox could not record it; after a restart it is looked for in Slack before being posted again');
      }
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
      this.#finished(job);
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
    // Where it goes is settled at the first attempt: a retry, or a lookup after a crash, goes there too.
    const to = job.attempt?.to ?? (await this.#destination(lane, job, threadKey));

    if (threadKey && to.threadTs && to.rootEventId) {
      const { threadTs, rootEventId } = to;
      const nth = to.nth ?? 2;
      const message = renderReply(view(record), nth, template);
      const res = await this.#send(lane, job, to, message);
      const followUps = await this.#commit(async (tx) => {
        tx.deleteJob(job);
        const jobs = await this.#addRef(tx, job.eventId, { kind: 'reply', lane: lane.key, target: lane.target, channel: res.channel, ts: res.ts, rangsShown: shown(res, record), nth });
        const rootRec = await tx.record(rootEventId);
        if (rootRec) {
          rootRec.repeats = { count: Math.max(nth, rootRec.repeats?.count ?? 1), lastAt: record.event.time };
          tx.putRecord(rootEventId, rootRec);
          const rootRef = rootRec.refs.find((r) => r.channel === res.channel && r.ts === threadTs);
          if (rootRef) jobs.push(this.#updateJob(rootEventId, rootRef));
        }
        const current = this.#opts.threads.get(threadKey);
        // (A newer thread started meanwhile stays where it is.)
        if (!current || current.rootEventId === rootEventId) {
          const moved: ThreadRoot = { rootEventId, channel: res.channel, ts: threadTs, lastAt: clock.now() };
          tx.putThread(threadKey, moved);
          tx.ops.push(() => this.#opts.threads.set(threadKey, moved));
        }
        for (const j of jobs) tx.putJob(j);
        return jobs;
      });
      for (const j of followUps) this.enqueue(j);
      this.#opts.report({ eventId: job.eventId, status: 'threaded', channel: res.channel, ts: res.ts });
      return;
    }

    const message = renderEvent({ event: record.event, rangs: record.rangs, repeats: record.repeats }, template);
    const res = await this.#send(lane, job, to, message);
    const followUps = await this.#commit(async (tx) => {
      tx.deleteJob(job);
      tx.learnChannel(to.postedTo, res.channel);
      const jobs = await this.#addRef(tx, job.eventId, { kind: 'message', lane: lane.key, target: lane.target, channel: res.channel, ts: res.ts, rangsShown: shown(res, record) }, (rec) => {
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

  /** A new post's destination: a reply in the live thread of its error, else the lane's channel or DM. */
  async #destination(lane: Lane, job: PostJob, threadKey: string | undefined): Promise<Destination> {
    const root = threadKey ? this.#liveRoot(threadKey, job.eventId) : undefined;
    if (root) {
      const rootRecord = await this.#opts.outbox.getRecord(root.rootEventId);
      return { postedTo: root.channel, channel: root.channel, threadTs: root.ts, rootEventId: root.rootEventId, nth: (rootRecord?.repeats?.count ?? 1) + 1 };
    }
    return { postedTo: await this.#people.channelFor(lane.target) };
  }

  async #digest(lane: Lane, job: DigestJob): Promise<void> {
    const { outbox, config } = this.#opts;
    const records = (await Promise.all(job.eventIds.map((id) => outbox.getRecord(id)))).filter((r): r is EventRecord => r !== undefined);
    if (records.length === 0) return this.#commit((tx) => tx.deleteJob(job));
    const to = job.attempt?.to ?? { postedTo: await this.#people.channelFor(lane.target) };
    const message = renderDigest({
      type: job.type,
      events: records.map((r) => r.event),
      windowMs: config.digest.windowMs,
      postedIndividually: Math.max(0, job.total - job.eventIds.length),
      maxListed: config.digest.maxListed,
      template: config.templates[job.type],
    });
    const res = await this.#send(lane, job, to, message);
    await this.#commit(async (tx) => {
      tx.deleteJob(job);
      tx.learnChannel(to.postedTo, res.channel);
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

  /**
   * Gets a post or digest into Slack once: looks for it first when an earlier attempt may
   * have landed, saves the attempt, then posts it with the job's key in its metadata.
   */
  async #send(lane: Lane, job: PostJob | DigestJob, to: Destination, message: RenderedMessage): Promise<Sent> {
    const { outbox, clock, api } = this.#opts;
    const jobKey = `${outbox.id}:${job.seq}`;
    if (this.#uncertain.has(job.seq) && job.attempt) {
      const found = await this.#lookup(lane, job, job.attempt.to, jobKey);
      if (found) return found;
      this.#uncertain.delete(job.seq);
    }
    const now = clock.now();
    const channel = to.channel ?? outbox.channelId(to.postedTo);
    job.attempt = { at: job.attempt?.at ?? now, lastAt: now, n: (job.attempt?.n ?? 0) + 1, to: channel ? { ...to, channel } : to };
    try {
      await outbox.markAttempted(job);
      this.#unmarked.delete(job.seq);
    } catch (err) {
      // Posting anyway keeps the event (a crash now could show it twice); not posting would stall the channel.
      this.#unmarked.add(job.seq);
      this.#log.error({ eventIds: eventIds(job), err: (err as Error).message }, 'could not save the attempt in the outbox; posting anyway');
    }
    try {
      const res = await this.#withBlocksFallback(message, (m) => api.postMessage({ channel: to.postedTo, threadTs: to.threadTs, jobKey, ...m }));
      return { ...res, found: false };
    } catch (err) {
      if (outcomeUnknown(err)) this.#uncertain.add(job.seq);
      throw err;
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
    const log = this.#log.child({ eventId: eventIds(job)[0], lane: lane.key, job: job.kind });
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
    const fix = needed
      ? `add the scope ${needed} under OAuth & Permissions > Bot Token Scopes and reinstall the app`
      : error === 'not_in_channel'
        ? 'invite the bot to the channel'
        : error === 'missing_scope'
          ? 'add channels:history, groups:history and im:history under OAuth & Permissions > Bot Token Scopes and reinstall the app'
          : undefined;
    log.warn(
      { channel, error, ...(needed ? { neededScope: needed } : {}), ...(fix ? { fix } : {}) },
      'cannot look in Slack for a message that may already be posted; posting it again, so it may show twice (warned once per channel and reason)',
    );
  }

  /** A job is done with (delivered, found, refused, or left on disk for a restart): forget its state. */
  #finished(job: Job): void {
    this.#retrying.delete(job.seq);
    this.#uncertain.delete(job.seq);
    this.#unmarked.delete(job.seq);
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

  /** Records an outcome; it goes before the intake of new events waiting for the outbox. */
  async #commit<T>(fn: (tx: Tx) => Promise<T> | T): Promise<T> {
    try {
      return await this.#opts.outbox.transaction(fn, { urgent: true });
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

/** How many rings a message shows: one found from an earlier attempt may show fewer than we have now. */
function shown(res: Sent, record: EventRecord): number {
  return res.found ? 0 : record.rangs.length;
}

function view(record: EventRecord) {
  return { event: record.event, rangs: record.rangs, repeats: record.repeats };
}

function eventIds(job: Job): string[] {
  return job.kind === 'digest' ? job.eventIds : [job.eventId];
}
