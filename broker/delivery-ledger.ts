// Which durable sessions still owe each message of the ingress log, kept in memory. The
// sessions' queues live in memory too (broker/sessions.ts), so the disk pays one write
// per message however many subscribers it has: the entry, until the last session meant
// to get it has acknowledged it. A session that is offline or slow is written down, once
// per message, after `noteAfterMs`: a restart then queues the message again for exactly
// those sessions instead of publishing it to every subscriber a second time.
export interface LedgerOptions {
  /** Every durable session meant to get the message has it: forget it on disk. */
  settled: (diskKey: string, noted: boolean) => void;
  /** Some sessions have not acknowledged it after `noteAfterMs`: write down which. */
  note: (diskKey: string, clientIds: string[]) => void;
  noteAfterMs: number;
  now?: () => number;
}

interface Pending {
  diskKey: string;
  owed: Map<string, number>;
  routed: boolean;
  since: number;
  noted: boolean;
}

export class DeliveryLedger {
  #opts: LedgerOptions;
  #pending = new Map<string, Pending>();
  #now: () => number;

  constructor(opts: LedgerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Starts tracking a message logged under `diskKey` (before it is routed). */
  open(brokerId: string, counter: number, diskKey: string, noted = false): void {
    this.#pending.set(`${brokerId}:${counter}`, { diskKey, owed: new Map(), routed: false, since: this.#now(), noted });
  }

  /** A copy was queued for `clientId`. Messages the ledger does not track (QoS 0, $SYS, retained copies) are ignored. */
  hold(brokerId: string | undefined, counter: number | undefined, clientId: string): void {
    const p = this.#pending.get(`${brokerId}:${counter}`);
    if (p) p.owed.set(clientId, (p.owed.get(clientId) ?? 0) + 1);
  }

  /** `clientId` acknowledged its copy (or its queue was emptied). */
  release(brokerId: string | undefined, counter: number | undefined, clientId: string): void {
    const key = `${brokerId}:${counter}`;
    const p = this.#pending.get(key);
    if (!p) return;
    const n = (p.owed.get(clientId) ?? 0) - 1;
    if (n > 0) p.owed.set(clientId, n);
    else p.owed.delete(clientId);
    this.#settleIfDone(key, p);
  }

  /** aedes has queued it for every session and handed it to every connected subscriber. */
  routed(brokerId: string, counter: number): void {
    const key = `${brokerId}:${counter}`;
    const p = this.#pending.get(key);
    if (!p) return;
    p.routed = true;
    this.#settleIfDone(key, p);
  }

  /** Writes down who still owes what has waited longer than `olderThanMs` (0 at a clean stop: everything). */
  noteSlow(olderThanMs = this.#opts.noteAfterMs): void {
    const before = this.#now() - olderThanMs;
    for (const p of this.#pending.values()) {
      if (p.noted || !p.routed || p.since > before || p.owed.size === 0) continue;
      p.noted = true;
      this.#opts.note(p.diskKey, [...p.owed.keys()]);
    }
  }

  #settleIfDone(key: string, p: Pending): void {
    if (!p.routed || p.owed.size > 0) return;
    this.#pending.delete(key);
    this.#opts.settled(p.diskKey, p.noted);
  }
}
