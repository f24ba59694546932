// QoS 1 publishes from clients, kept on disk from before their PUBACK until aedes has
// stored and routed them. aedes answers PUBACK first and publishes after, so a crash in
// between lost a message its publisher had been told was safe. Whatever is still here at
// the next start was acknowledged and maybe never routed: the broker publishes it again.
// That is at least once: an entry whose PUBACK never went out (the socket closed first) also
// stays until then, while its publisher sends it again; subscribers drop copies by event id.
import type { Level } from 'level';

export interface IngressEntry {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** aedes' identity of the message; publishing again with it lets an offline queue overwrite, not repeat. */
  brokerId: string;
  brokerCounter: number;
}

type Op = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

const pad = (n: number) => String(n).padStart(16, '0');
const sublevel = (db: Level<string, Buffer>) => db.sublevel<string, Buffer>('bellhop-ingress', { valueEncoding: 'buffer' });

export class IngressLog {
  #db: ReturnType<typeof sublevel>;
  // One run's keys sort together, after any earlier run's (see leftovers()).
  #prefix = pad(Date.now());
  #ops: Op[] = [];
  #waiters: Array<(err: Error | null) => void> = [];
  #scheduled = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(db: Level<string, Buffer>) {
    this.#db = sublevel(db);
  }

  /** Resolves once the entry is on disk; entries arriving in the same turn share one batch. */
  add(entry: IngressEntry): Promise<void> {
    const value = Buffer.from(JSON.stringify({ ...entry, payload: entry.payload.toString('base64') }));
    this.#ops.push({ type: 'put', key: this.#key(entry.brokerCounter), value });
    return new Promise((resolve, reject) => {
      this.#waiters.push((err) => (err ? reject(err) : resolve()));
      this.#schedule();
    });
  }

  /** Forgets an entry once aedes has published it. Not awaited: a late delete only means a repeat after a crash. */
  remove(brokerCounter: number): void {
    this.#ops.push({ type: 'del', key: this.#key(brokerCounter) });
    this.#schedule();
  }

  /**
   * Entries left by an earlier run, oldest first. Read before this run adds any (the broker
   * replays them before it listens). A Pi without a clock chip can boot with its clock behind
   * the last run's, so this run's keys start after the last left over, not at "now".
   */
  async *leftovers(): AsyncGenerator<{ key: string; entry: IngressEntry }> {
    let last = 0;
    for await (const [key, value] of this.#db.iterator()) {
      last = Math.max(last, Number(key.slice(0, key.indexOf(':'))));
      const raw = JSON.parse(value.toString()) as Omit<IngressEntry, 'payload'> & { payload: string };
      yield { key, entry: { ...raw, payload: Buffer.from(raw.payload, 'base64') } };
    }
    this.#prefix = pad(Math.max(Date.now(), last + 1));
  }

  async forget(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.#db.batch(keys.map((key) => ({ type: 'del' as const, key })));
  }

  /** Waits for every queued write (before the store closes). */
  async flush(): Promise<void> {
    while (this.#scheduled || this.#ops.length > 0) await new Promise((r) => setImmediate(r));
    await this.#writing;
  }

  #key(counter: number): string {
    return `${this.#prefix}:${pad(counter)}`;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const ops = this.#ops.splice(0);
      const waiters = this.#waiters.splice(0);
      if (ops.length === 0) return;
      // Batches are written in order, so a delete never lands before its put.
      this.#writing = this.#writing.then(() => this.#db.batch(ops)).then(
        () => waiters.forEach((w) => w(null)),
        (err: Error) => waiters.forEach((w) => w(err)),
      );
    });
  }
}
