// The three kinds of delivery: a post (a new message, or a reply in the thread of its
// error), a digest, and an update of a posted message when rings arrive. Each sends, then
// records the outcome and any follow-up job in one outbox transaction.
import type { SlackConfig } from '../shared/config/schema.js';
import { MAX_IDS_PER_REPORT, type DeliveryReport } from '../shared/messages.js';
import type { SlackApi } from './api.js';
import type { Sender, Sent } from './exactly-once.js';
import type { Lane } from './lanes.js';
import type { Destination, DigestJob, EventRecord, Job, MessageRef, Outbox, PostJob, Tx, UpdateJob } from './outbox.js';
import type { People } from './people.js';
import { renderDigest, renderEvent, renderReply } from './render.js';
import { ThreadBook } from './thread-book.js';

export type ReportFn = (report: Omit<DeliveryReport, 'at'>) => void;

export interface DeliveryContext {
  api: SlackApi;
  outbox: Outbox;
  config: SlackConfig;
  people: People;
  sender: Sender;
  threads: ThreadBook;
  report: ReportFn;
  /** Queues follow-up jobs (updates) once their transaction is written. */
  enqueue: (job: Job) => void;
}

/** A write to the outbox failed after Slack accepted the message. */
export class StoreError extends Error {}

/** Records an outcome; it goes before the intake of new events waiting for the outbox. */
export async function commit<T>(outbox: Outbox, fn: (tx: Tx) => Promise<T> | T): Promise<T> {
  try {
    return await outbox.transaction(fn, { urgent: true });
  } catch (err) {
    throw new StoreError((err as Error).message, { cause: err });
  }
}

export class Deliveries {
  #c: DeliveryContext;

  constructor(context: DeliveryContext) {
    this.#c = context;
  }

  run(lane: Lane, job: Job): Promise<void> {
    if (job.kind === 'post') return this.#post(lane, job);
    if (job.kind === 'digest') return this.#digest(lane, job);
    return this.#update(lane, job);
  }

  async #post(lane: Lane, job: PostJob): Promise<void> {
    const { outbox, config } = this.#c;
    const record = await outbox.getRecord(job.eventId);
    if (!record) return commit(outbox, (tx) => tx.deleteJob(job));
    const threadKey = ThreadBook.key(lane.key, job.fingerprint);
    // Where it goes is settled at the first attempt: a retry, or a lookup after a crash, goes there too.
    const to = job.attempt?.to ?? (await this.#destination(lane, job, threadKey));
    const template = config.templates[record.event.type];
    const reply = threadKey && to.threadTs && to.rootEventId ? { threadKey, threadTs: to.threadTs, rootEventId: to.rootEventId, nth: to.nth ?? 2 } : undefined;
    const message = reply ? renderReply(view(record), reply.nth, template) : renderEvent(view(record), template);
    const res = await this.#c.sender.send(lane, job, to, message);
    const followUps = await commit(outbox, async (tx) => {
      tx.deleteJob(job);
      const jobs = reply ? await this.#recordReply(tx, lane, job, record, res, reply) : await this.#recordPost(tx, lane, job, to, record, res, threadKey);
      for (const j of jobs) tx.putJob(j);
      return jobs;
    });
    for (const j of followUps) this.#c.enqueue(j);
    this.#c.report({ eventId: job.eventId, status: reply ? 'threaded' : 'posted', channel: res.channel, ts: res.ts });
  }

  async #recordPost(tx: Tx, lane: Lane, job: PostJob, to: Destination, record: EventRecord, res: Sent, threadKey: string | undefined): Promise<Job[]> {
    tx.learnChannel(to.postedTo, res.channel);
    const ref: MessageRef = { kind: 'message', lane: lane.key, target: lane.target, channel: res.channel, ts: res.ts, rangsShown: shown(res, record) };
    const jobs = await this.#addRef(tx, job.eventId, ref, (rec) => {
      if (threadKey) rec.repeats = { count: 1, lastAt: rec.event.time };
    });
    if (threadKey) this.#c.threads.start(tx, threadKey, job.eventId, res.channel, res.ts);
    return jobs;
  }

  async #recordReply(
    tx: Tx,
    lane: Lane,
    job: PostJob,
    record: EventRecord,
    res: Sent,
    reply: { threadKey: string; threadTs: string; rootEventId: string; nth: number },
  ): Promise<Job[]> {
    const { rootEventId, threadTs, nth } = reply;
    const ref: MessageRef = { kind: 'reply', lane: lane.key, target: lane.target, channel: res.channel, ts: res.ts, rangsShown: shown(res, record), nth };
    const jobs = await this.#addRef(tx, job.eventId, ref);
    const rootRec = await tx.record(rootEventId);
    if (rootRec) {
      rootRec.repeats = { count: Math.max(nth, rootRec.repeats?.count ?? 1), lastAt: record.event.time };
      tx.putRecord(rootEventId, rootRec);
      const rootRef = rootRec.refs.find((r) => r.channel === res.channel && r.ts === threadTs);
      if (rootRef) jobs.push(this.#updateJob(rootEventId, rootRef));
    }
    this.#c.threads.touch(tx, reply.threadKey, rootEventId, res.channel, threadTs);
    return jobs;
  }

  /** A new post's destination: a reply in the live thread of its error, else the lane's channel or DM. */
  async #destination(lane: Lane, job: PostJob, threadKey: string | undefined): Promise<Destination> {
    const root = threadKey ? this.#c.threads.live(threadKey, job.eventId) : undefined;
    if (root) {
      const rootRecord = await this.#c.outbox.getRecord(root.rootEventId);
      return { postedTo: root.channel, channel: root.channel, threadTs: root.ts, rootEventId: root.rootEventId, nth: (rootRecord?.repeats?.count ?? 1) + 1 };
    }
    return { postedTo: await this.#c.people.channelFor(lane.target) };
  }

  async #digest(lane: Lane, job: DigestJob): Promise<void> {
    const { outbox, config } = this.#c;
    // Only the listed events are read: a flood's digest holds thousands of ids, and reading
    // every record held them all in memory while the post waited for its lane.
    const ids = job.eventIds.filter((id) => outbox.knows(id));
    if (ids.length === 0) return commit(outbox, (tx) => tx.deleteJob(job));
    const listed = (await Promise.all(ids.slice(0, config.digest.maxListed).map((id) => outbox.getRecord(id)))).filter((r): r is EventRecord => r !== undefined);
    const to = job.attempt?.to ?? { postedTo: await this.#c.people.channelFor(lane.target) };
    const message = renderDigest({
      type: job.type,
      events: listed.map((r) => r.event),
      count: ids.length,
      windowMs: config.digest.windowMs,
      postedIndividually: Math.max(0, job.total - job.eventIds.length),
      maxListed: config.digest.maxListed,
      template: config.templates[job.type],
    });
    const res = await this.#c.sender.send(lane, job, to, message);
    // The events' records are left as they are: a digest is never updated with rings (single
    // posts are), so a ref to it would be written for thousands of records and never read; each
    // event's trace learns the digest from the report.
    await commit(outbox, (tx) => {
      tx.deleteJob(job);
      tx.learnChannel(to.postedTo, res.channel);
    });
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_REPORT) {
      const [first, ...rest] = ids.slice(i, i + MAX_IDS_PER_REPORT);
      this.#c.report({ eventId: first!, ...(rest.length > 0 ? { alsoEventIds: rest } : {}), status: 'digested', channel: res.channel, ts: res.ts });
    }
  }

  async #update(lane: Lane, job: UpdateJob): Promise<void> {
    const { outbox, config } = this.#c;
    // A later update of the same message in this lane will show everything; skip this one.
    const superseded = lane.queue.some((j) => j !== job && j.kind === 'update' && j.channel === job.channel && j.ts === job.ts);
    const record = superseded ? undefined : await outbox.getRecord(job.eventId);
    const ref = record?.refs.find((r) => r.channel === job.channel && r.ts === job.ts);
    if (!record || !ref) return commit(outbox, (tx) => tx.deleteJob(job));
    const template = config.templates[record.event.type];
    const message = ref.kind === 'reply' ? renderReply(view(record), ref.nth ?? 2, template) : renderEvent(view(record), template);
    await this.#c.sender.withBlocksFallback(message, (m) => this.#c.api.update({ channel: job.channel, ts: job.ts, ...m }));
    const followUps = await commit(outbox, async (tx) => {
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
    for (const j of followUps) this.#c.enqueue(j);
    this.#c.report({ eventId: job.eventId, status: 'updated', channel: job.channel, ts: job.ts });
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
    return { seq: this.#c.outbox.nextSeq(), kind: 'update', lane: ref.lane, target: ref.target, eventId, channel: ref.channel, ts: ref.ts };
  }
}

/** How many rings a message shows: one found from an earlier attempt may show fewer than we have now. */
function shown(res: Sent, record: EventRecord): number {
  return res.found ? 0 : record.rangs.length;
}

function view(record: EventRecord) {
  return { event: record.event, rangs: record.rangs, repeats: record.repeats };
}
