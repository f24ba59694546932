// One writer for a LevelDB store written from many places at once. What arrives in the same
// tick, or while the previous batch is being written, goes out as ONE batch, synced to the
// disk when `sync` is set, and only then are the writers told it is safe: an acknowledgement
// (a PUBACK, an MQTT ack of the Slack sink) waits for its own group's sync, never for a sync
// per message. Batches are written in order, so a delete queued after a put never lands
// before it. The broker's store and the Slack outbox both write through one of these.
// Writes nobody waits on (queue(): deletes of what every subscriber has) go with the group of
// their turn, and a group of only those is written unsynced: at a few events a second each
// event's delete would otherwise cost an fsync of its own. They still reach the OS within a
// turn, so a crash of the process loses none; a power cut can only cost a repeat.

/** Writes one batch (LevelDB's `db.batch(ops, { sync })`). */
export type WriteBatch<Op> = (ops: Op[], options: { sync: boolean }) => Promise<void>;

export interface GroupCommitOptions {
  /** fsync each batch (what a power cut may not undo); false leaves it to the OS cache. */
  sync: boolean;
  /** Told of every failed batch that no writer waits on (deletes, retained copies). */
  onError: (err: Error) => void;
}

export class GroupCommit<Op> {
  #write: WriteBatch<Op>;
  #opts: GroupCommitOptions;
  #ops: Op[] = [];
  #waiters: Array<(err: Error | null) => void> = [];
  #scheduled = false;
  #writing: Promise<void> | undefined;

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

  /** Writes `ops` with the next group, nobody waiting: losing them at a power cut only costs a repeat. */
  queue(ops: Op[]): void {
    this.#ops.push(...ops);
    this.#schedule();
  }

  /** Waits for every queued write (before the store closes). */
  async flush(): Promise<void> {
    while (this.#scheduled || this.#writing || this.#ops.length > 0) {
      if (this.#writing) await this.#writing;
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
      // Whatever queued up while this batch was on its way is the next group.
      if (this.#ops.length > 0) this.#next();
    });
  }
}
