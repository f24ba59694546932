// QoS 1/2 publishes, kept on disk from before their PUBACK until every durable session meant
// to get them has acknowledged them (the delivery ledger says when). aedes answers PUBACK
// before it stores and routes, and the sessions' queues live in memory, so this log is what
// a restart delivers from: an entry with an "owed" note is queued again for the sessions
// named; one without (a crash in its first second) is published again to everyone. That is
// at least once; subscribers drop copies by event id.
import type { Level } from 'level';
import { sublevelOf, type GroupCommit, type Sublevel } from './group-commit.js';

export interface IngressEntry {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** aedes' identity of the message; publishing again with it lets an offline queue overwrite, not repeat. */
  brokerId: string;
  brokerCounter: number;
}

const pad = (n: number) => String(n).padStart(16, '0');

export interface Leftover {
  key: string;
  entry: IngressEntry;
  /** The durable sessions that had not acknowledged it when they were last written down. */
  owed?: string[];
}

export class IngressLog {
  #db: Sublevel;
  #owed: Sublevel;
  #writer: GroupCommit;
  // One run's keys sort together, after any earlier run's (see leftovers()).
  #prefix = pad(Date.now());

  constructor(db: Level<string, Buffer>, writer: GroupCommit) {
    this.#db = sublevelOf(db, 'bellhop-ingress');
    this.#owed = sublevelOf(db, 'bellhop-owed');
    this.#writer = writer;
  }

  /** The key `add` files an entry under (what `remove` and the delivery ledger name it by). */
  keyOf(brokerCounter: number): string {
    return `${this.#prefix}:${pad(brokerCounter)}`;
  }

  /** Resolves once the entry is on disk; entries arriving in the same turn share one batch (and one sync). */
  add(entry: IngressEntry): Promise<void> {
    const value = Buffer.from(JSON.stringify({ ...entry, payload: entry.payload.toString('base64') }));
    return this.#writer.write([{ type: 'put', sublevel: this.#db, key: this.keyOf(entry.brokerCounter), value }]);
  }

  /** Forgets an entry once every durable session it was meant for has it. Not awaited: a late delete only means a repeat after a crash. */
  remove(key: string, noted: boolean): void {
    this.#writer.queue([{ type: 'del', sublevel: this.#db, key }, ...(noted ? [{ type: 'del' as const, sublevel: this.#owed, key }] : [])]);
  }

  /** Files messages an older store had queued, owed by the sessions named, ahead of any run's own. */
  async carryOver(lefts: Array<{ entry: IngressEntry; owed: string[] }>): Promise<void> {
    const ops = lefts.flatMap(({ entry, owed }, i) => {
      const key = `${pad(0)}:${pad(i + 1)}`;
      return [
        { type: 'put' as const, sublevel: this.#db, key, value: Buffer.from(JSON.stringify({ ...entry, payload: entry.payload.toString('base64') })) },
        { type: 'put' as const, sublevel: this.#owed, key, value: Buffer.from(JSON.stringify(owed)) },
      ];
    });
    if (ops.length > 0) await this.#writer.write(ops);
  }

  /** Writes down which sessions still owe the entry, so a restart queues it for them alone. */
  noteOwed(key: string, clientIds: string[]): void {
    this.#writer.queue([{ type: 'put', sublevel: this.#owed, key, value: Buffer.from(JSON.stringify(clientIds)) }]);
  }

  /**
   * Entries left by an earlier run, oldest first. Read before this run adds any (the broker
   * replays them before it listens). A Pi without a clock chip can boot with its clock behind
   * the last run's, so this run's keys start after the last left over, not at "now".
   */
  async *leftovers(): AsyncGenerator<Leftover> {
    const owed = new Map<string, string[]>();
    for await (const [key, value] of this.#owed.iterator()) owed.set(key, JSON.parse(value.toString()) as string[]);
    let last = 0;
    for await (const [key, value] of this.#db.iterator()) {
      last = Math.max(last, Number(key.slice(0, key.indexOf(':'))));
      const raw = JSON.parse(value.toString()) as Omit<IngressEntry, 'payload'> & { payload: string };
      const entry = { ...raw, payload: Buffer.from(raw.payload, 'base64') };
      const clientIds = owed.get(key);
      yield clientIds ? { key, entry, owed: clientIds } : { key, entry };
      owed.delete(key);
    }
    // Notes whose entry is gone (its delete landed, the note's did not).
    if (owed.size > 0) this.#writer.queue([...owed.keys()].map((key) => ({ type: 'del' as const, sublevel: this.#owed, key })));
    this.#prefix = pad(Math.max(Date.now(), last + 1));
  }
}
