// One writer for a LevelDB store written from many places at once. What arrives in the same
// tick, or while the previous batch is being written, goes out as ONE batch, synced to the
// disk when `sync` is set, and only then are the writers told it is safe: an acknowledgement
// (a PUBACK, an MQTT ack of the Slack sink) waits for its own group's sync, never for a sync
// per message. Batches are written in order, so a delete queued after a put never lands
// before it. The broker's store and the Slack outbox both write through one of these.
// Writes nobody waits on (queue(): deletes of what every subscriber has) ride with the next
// group that somebody does wait on, or go out unsynced after LAZY_MS: at a few events a second
// each event's delete would otherwise cost an fsync of its own.

/** Writes one batch (LevelDB's `db.batch(ops, { sync })`). */
export type WriteBatch<Op> = (ops: Op[], options: { sync: boolean }) => Promise<void>;

export interface GroupCommitOptions {
  /** fsync each batch (what a power cut may not undo); false leaves it to the OS cache. */
  sync: boolean;
  /** Told of every failed batch that no writer waits on (deletes, retained copies). */
  onError: (err: Error) => void;
}

/** How long ops nobody waits on may wait for a group to ride with. */
export const LAZY_MS = 250;

export class GroupCommit<Op> {
  #write: WriteBatch<Op>;
  #opts: GroupCommitOptions;
  #ops: Op[] = [];
  #waiters: Array<(err: Error | null) => void> = [];
  #scheduled = false;
  #writing: Promise<void> | undefined;
  #lazy: NodeJS.Timeout | undefined;

  constructor(write: WriteBatch<Op>, opts: GroupCommitOptions) {
    this.#write = write;
    this.#opts = opts;
  }

  /** Resolves once `ops` are on disk (synced per the option). */
  write(ops: Op[]): Promise<void> {
    this.#ops.push(...ops);
    return new Promise((resolve, reject) => {
      this.#waiters.push((err) => (err ? reject(err) : resolve()));
      this.#schedule();
    });
  }

  /**
   * Writes `ops` with the next group, nobody waiting: losing them at a power cut only costs a
   * repeat. Alone (no write() within LAZY_MS) they go out unsynced: the OS has them, a process
   * crash loses nothing.
   */
  queue(ops: Op[]): void {
    this.#ops.push(...ops);
    if (this.#scheduled || this.#writing || this.#lazy) return;
    this.#lazy = setTimeout(() => {
      this.#lazy = undefined;
      if (!this.#scheduled && !this.#writing) this.#next();
    }, LAZY_MS);
    this.#lazy.unref();
  }

  /** Waits for every queued write (before the store closes). */
  async flush(): Promise<void> {
    while (this.#scheduled || this.#writing || this.#lazy || this.#ops.length > 0) {
      if (this.#writing) await this.#writing;
      else if (this.#lazy || (!this.#scheduled && this.#ops.length > 0)) this.#next();
      else await new Promise((r) => setImmediate(r));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    // One turn of the event loop gathers whatever the sockets delivered together.
    setImmediate(() => {
      this.#scheduled = false;
      this.#next();
    });
  }

  #next(): void {
    clearTimeout(this.#lazy);
    this.#lazy = undefined;
    const ops = this.#ops.splice(0);
    const waiters = this.#waiters.splice(0);
    if (ops.length === 0) {
      waiters.forEach((w) => w(null));
      return;
    }
    const sync = this.#opts.sync && waiters.length > 0;
    this.#writing = this.#write(ops, { sync }).then(
      () => waiters.forEach((w) => w(null)),
      (err: Error) => {
        if (waiters.length === 0) this.#opts.onError(err);
        waiters.forEach((w) => w(err));
      },
    ).finally(() => {
      this.#writing = undefined;
      // Whatever somebody waits on that queued up while this batch was on its way is the next
      // group; ops nobody waits on wait for one (or LAZY_MS).
      if (this.#waiters.length > 0) this.#next();
      else if (this.#ops.length > 0) this.queue([]);
    });
  }
}
