// The sink's durable outbox in <dataDir>/slack (LevelDB). An event is written here,
// with one job per target, before its MQTT message is acknowledged; a job is
// removed only once Slack accepted the post or refused it for good. The event
// records double as the dedup memory (bounded: the oldest are pruned) and keep
// what a later chat.update needs: the envelope, the rings, where it was posted.
//
// Read-modify-writes are serialised (one at a time, each one atomic batch), but not first
// come, first served: completions (recording that Slack took a job) jump ahead of the
// intake of new events, so at a crash few posts are left unrecorded. Their batches go to
// disk grouped (shared/group-commit.ts): all that one tick produced is one LevelDB write,
// synced unless `dataSync: none`, and each transaction resolves (so its MQTT message is
// acknowledged) only once its group is on disk. The next transaction does not wait for
// that write: it reads the event records still on their way from memory. A post or digest
// is marked as attempted on disk before it is sent, so a restart knows to look for it in
// Slack before sending it again, and marked with Slack's answer as soon as it comes, so a
// restart needs no lookup for a post that was only waiting to be recorded.
import { randomBytes } from 'node:crypto';
import { Level } from 'level';
import { GroupCommit } from '../shared/group-commit.js';
import type { Envelope } from '../shared/envelope.js';
import { CHANNEL_ID } from './ids.js';
import type { BatchOp, EventRecord, Job, Section, Sections, ThreadRoot } from './outbox-records.js';
import { openStore } from '../shared/data-folder.js';

export type * from './outbox-records.js';

const pad = (seq: number) => String(seq).padStart(16, '0');
const PRUNE_PER_EVENT = 500; // records, at most: after a flood's digest thousands fall due at once

/** A section of the store: JSON values, whatever the section holds (BatchOp types them). */
const jsonSection = <V>(db: Level<string, unknown>, where: Section) => db.sublevel<string, V>(where, { valueEncoding: 'json' });
type Sub = ReturnType<typeof jsonSection<unknown>>;
type TypedSub<S extends Section> = ReturnType<typeof jsonSection<Sections[S]>>;
type LevelOp = { type: 'put'; sublevel: Sub; key: string; value: unknown } | { type: 'del'; sublevel: Sub; key: string };

/** Reads and writes gathered by one transaction, written in one atomic batch. */
export class Tx {
  #outbox: Outbox;
  #records = new Map<string, EventRecord | undefined>();
  readonly ops: Array<() => void> = [];
  #batch: BatchOp[] = [];

  constructor(outbox: Outbox) {
    this.#outbox = outbox;
  }

  async record(eventId: string): Promise<EventRecord | undefined> {
    if (!this.#records.has(eventId)) this.#records.set(eventId, await this.#outbox.getRecord(eventId));
    return this.#records.get(eventId);
  }

  putRecord(eventId: string, record: EventRecord): void {
    this.#records.set(eventId, record);
    this.#batch.push({ type: 'put', where: 'events', key: eventId, value: record });
  }

  putJob(job: Job): void {
    this.#batch.push({ type: 'put', where: 'jobs', key: pad(job.seq), value: job });
    this.ops.push(() => this.#outbox.trackJob(job, +1));
  }

  deleteJob(job: Job): void {
    this.#batch.push({ type: 'del', where: 'jobs', key: pad(job.seq) });
    this.ops.push(() => this.#outbox.trackJob(job, -1));
  }

  putThread(key: string, root: ThreadRoot): void {
    this.#batch.push({ type: 'put', where: 'threads', key, value: root });
  }

  deleteThread(key: string): void {
    this.#batch.push({ type: 'del', where: 'threads', key });
  }

  /** Remembers the channel id Slack gave for what we posted to (#name, user id), for later lookups. */
  learnChannel(postedTo: string, id: string): void {
    if (postedTo === id || this.#outbox.channelId(postedTo) === id) return;
    this.#batch.push({ type: 'put', where: 'channels', key: postedTo, value: { id } });
    this.ops.push(() => this.#outbox.rememberChannel(postedTo, id));
  }

  get batch(): BatchOp[] {
    return this.#batch;
  }
}

export class Outbox {
  #dir: string;
  #db: Level<string, unknown> | undefined;
  // One sublevel per section for the store's life: one per op cost a few % of all CPU in profiles.
  #sections = new Map<Section, Sub>();
  #seq = 0;
  #records = 0;
  #limit: number;
  /** Jobs per event id, so the dedup pruning never forgets an event still being delivered. */
  #pending = new Map<string, number>();
  #jobs = 0;
  /** Transactions waiting their turn: urgent ones (completions) before the others, FIFO within each. */
  #queue: Array<{ urgent: boolean; run: () => Promise<void> }> = [];
  #busy = false;
  #idle: Array<() => void> = [];
  #commit: GroupCommit<LevelOp> | undefined;
  /** The ids of every event record kept (at most dedupSize and those still being delivered): a new event costs no read. */
  #known = new Set<string>();
  /** Event records written by a transaction whose group is not on disk yet (null: deleted). */
  #unwritten = new Map<string, EventRecord | null>();
  #sync: boolean;
  #watchStore: ((db: Level<string, unknown>) => void) | undefined;
  #id = '';
  #channels = new Map<string, string>();

  /** `sync`: fsync each group of writes (`dataSync: group`, the default); `watchStore`: tests see the store opened. */
  constructor(dir: string, dedupSize: number, opts: { sync?: boolean; watchStore?: (db: Level<string, unknown>) => void } = {}) {
    this.#dir = dir;
    this.#limit = dedupSize;
    this.#sync = opts.sync ?? true;
    this.#watchStore = opts.watchStore;
  }

  async open(): Promise<{ jobs: Job[]; threads: Map<string, ThreadRoot> }> {
    const db = new Level<string, unknown>(this.#dir, { valueEncoding: 'json' });
    await openStore(db, this.#dir, 'the Slack outbox');
    this.#db = db;
    this.#watchStore?.(db);
    // A failed group rejects the transactions that wrote it; nothing writes without waiting.
    this.#commit = new GroupCommit<LevelOp>((ops, options) => db.batch(ops, options), { sync: this.#sync, onError: () => undefined });
    const jobs: Job[] = [];
    for await (const job of this.#sub('jobs').values()) {
      jobs.push(job);
      this.trackJob(job, +1);
      this.#seq = Math.max(this.#seq, job.seq);
    }
    for await (const [key, { id }] of this.#sub('order').iterator()) {
      this.#records += 1;
      this.#known.add(id);
      this.#seq = Math.max(this.#seq, Number(key));
    }
    const threads = new Map<string, ThreadRoot>();
    for await (const [key, root] of this.#sub('threads').iterator()) threads.set(key, root);
    for await (const [key, value] of this.#sub('channels').iterator()) this.#channels.set(key, value.id);
    const meta = this.#sub('meta');
    const id = (await meta.get('id'))?.id;
    this.#id = typeof id === 'string' ? id : randomBytes(9).toString('base64url');
    if (id !== this.#id) await meta.put('id', { id: this.#id });
    return { jobs, threads };
  }

  async close(): Promise<void> {
    await this.#settled();
    await this.#db?.close();
    this.#db = undefined;
    this.#sections.clear();
  }

  /** A random id made when the outbox was created: with a job's seq, it names the job in Slack's message metadata. */
  get id(): string {
    return this.#id;
  }

  /** The channel id Slack gave when we last posted to `postedTo` (#name or user id), if known. */
  channelId(postedTo: string): string | undefined {
    return CHANNEL_ID.test(postedTo) ? postedTo : this.#channels.get(postedTo);
  }

  rememberChannel(postedTo: string, id: string): void {
    this.#channels.set(postedTo, id);
  }

  /**
   * Saves the job (with its attempt) before it is sent to Slack. It touches only that job's
   * record, which nothing else rewrites while its lane sends it, so it does not wait in the queue.
   */
  markAttempted(job: Job): Promise<void> {
    return this.#putJobNow(job);
  }

  /**
   * Saves the job with Slack's answer (attempt.posted) the moment it comes, outside the queue
   * for the same reason as markAttempted: a kill before the outcome is recorded then leaves a
   * job the restart records as posted, rather than one it must find in Slack (or post again).
   */
  markPosted(job: Job): Promise<void> {
    return this.#putJobNow(job);
  }

  #putJobNow(job: Job): Promise<void> {
    return this.writeBatch([{ type: 'put', where: 'jobs', key: pad(job.seq), value: job }]);
  }

  nextSeq(): number {
    this.#seq += 1;
    return this.#seq;
  }

  /** Jobs not yet done (posts, digests, updates). */
  get pendingJobs(): number {
    return this.#jobs;
  }

  /** Whether the event's record is kept (no read: the ids are in memory). */
  knows(eventId: string): boolean {
    return this.#known.has(eventId);
  }

  async getRecord(eventId: string): Promise<EventRecord | undefined> {
    if (!this.#known.has(eventId)) return undefined;
    const unwritten = this.#unwritten.get(eventId);
    // A copy, as a read from disk would be: a transaction may change it and then fail.
    if (unwritten !== undefined) return unwritten === null ? undefined : structuredClone(unwritten);
    return this.#sub('events').get(eventId);
  }

  /**
   * Stores a new event and its jobs in one batch (then forgets the oldest events beyond the
   * limit); undefined when the event is known already (a redelivery), checked in the same
   * transaction so two copies taken together cannot both be stored.
   */
  async accept(event: Envelope, jobs: (seq: number) => Job[]): Promise<Job[] | undefined> {
    return this.transaction(async (tx) => {
      if (await tx.record(event.id)) return undefined;
      const seq = this.nextSeq();
      const created = jobs(seq);
      tx.putRecord(event.id, { seq, event, rangs: [], refs: [] });
      tx.batch.push({ type: 'put', where: 'order', key: pad(seq), value: { id: event.id } });
      for (const job of created) tx.putJob(job);
      tx.ops.push(() => (this.#records += 1));
      return created;
    }).then(async (created) => {
      if (created) await this.#prune();
      return created;
    });
  }

  /**
   * Runs read-modify-write steps one at a time and writes each as one atomic batch.
   * `urgent` (recording what Slack took) runs before every non-urgent one still waiting,
   * so a completion never queues behind the intake of new events.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T> | T, { urgent = false }: { urgent?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = {
        urgent,
        run: async () => {
          const tx = new Tx(this);
          let written: Promise<void>;
          let result: T;
          try {
            result = await fn(tx);
            written = this.writeBatch(tx.batch);
          } catch (err) {
            return reject(err as Error);
          }
          // The next transaction runs meanwhile; this one is done when its group is on disk.
          written.then(() => {
            for (const op of tx.ops) op();
            resolve(result);
          }, reject);
        },
      };
      const firstOrdinary = urgent ? this.#queue.findIndex((e) => !e.urgent) : -1;
      if (firstOrdinary >= 0) this.#queue.splice(firstOrdinary, 0, entry);
      else this.#queue.push(entry);
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#busy) return;
    const next = this.#queue.shift();
    if (!next) {
      for (const wake of this.#idle.splice(0)) wake();
      return;
    }
    this.#busy = true;
    void next.run().finally(() => {
      this.#busy = false;
      this.#pump();
    });
  }

  /** Resolves once no transaction is running or waiting and every write is on disk. */
  async #settled(): Promise<void> {
    while (this.#busy || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    await this.#commit?.flush();
  }

  /** Writes `ops` with the current group; resolves once that group is on disk. */
  writeBatch(ops: BatchOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    // One batch spans sections of different value types; BatchOp ties each value to its section.
    const unwritten: Array<[string, EventRecord | null]> = [];
    const levelOps = ops.map((op): LevelOp => {
      if (op.where === 'events') unwritten.push([op.key, op.type === 'put' ? op.value : null]);
      return op.type === 'put'
        ? { type: 'put', sublevel: this.#section(op.where), key: op.key, value: op.value }
        : { type: 'del', sublevel: this.#section(op.where), key: op.key };
    });
    for (const [key, value] of unwritten) {
      this.#unwritten.set(key, value);
      if (value) this.#known.add(key);
      else this.#known.delete(key);
    }
    const forget = () => {
      // Unless a later transaction has written the record again.
      for (const [key, value] of unwritten) if (this.#unwritten.get(key) === value) this.#unwritten.delete(key);
    };
    const written = this.#commit!.write(levelOps);
    written.then(forget, forget);
    return written;
  }

  trackJob(job: Job, delta: 1 | -1): void {
    this.#jobs += delta;
    for (const id of job.kind === 'digest' ? job.eventIds : [job.eventId]) {
      const n = (this.#pending.get(id) ?? 0) + delta;
      if (n > 0) this.#pending.set(id, n);
      else this.#pending.delete(id);
    }
  }

  async #prune(): Promise<void> {
    if (this.#records <= this.#limit) return;
    await this.transaction(async (tx) => {
      const excess = Math.min(this.#records - this.#limit, PRUNE_PER_EVENT);
      for await (const [key, value] of this.#sub('order').iterator({ limit: excess })) {
        const id = value.id;
        // Still being delivered: keep it and everything newer until next time.
        if (this.#pending.has(id)) break;
        tx.batch.push({ type: 'del', where: 'order', key }, { type: 'del', where: 'events', key: id });
        tx.ops.push(() => (this.#records -= 1));
      }
    });
  }

  #open(): Level<string, unknown> {
    if (!this.#db) throw new Error('the Slack outbox is closed');
    return this.#db;
  }

  #section(where: Section): Sub {
    let sub = this.#sections.get(where);
    if (!sub) this.#sections.set(where, (sub = jsonSection<unknown>(this.#open(), where)));
    return sub;
  }

  /** A section typed by what it holds (every value in it was written through BatchOp). */
  #sub<S extends Section>(name: S) {
    return this.#section(name) as unknown as TypedSub<S>;
  }
}
