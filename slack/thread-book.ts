// The thread book: where repeats of one error are threaded, per lane. It owns the roots
// (in memory and, through the outbox transaction that changes them, on disk) and their
// expiry; nothing else writes to them.
import type { Clock } from '../shared/clock.js';
import type { Outbox, ThreadRoot, Tx } from './outbox.js';

const SWEEP_AT = 500;

export class ThreadBook {
  #roots: Map<string, ThreadRoot>;
  #clock: Clock;
  #windowMs: number;

  constructor(roots: Map<string, ThreadRoot>, clock: Clock, windowMs: number) {
    this.#roots = roots;
    this.#clock = clock;
    this.#windowMs = windowMs;
  }

  static key(lane: string, fingerprint: string | undefined): string | undefined {
    return fingerprint ? `${lane}\u0000${fingerprint}` : undefined;
  }

  /** The thread a repeat of `eventId` goes into, while it is within its window. */
  live(key: string, eventId: string): ThreadRoot | undefined {
    const root = this.#roots.get(key);
    if (!root || root.rootEventId === eventId) return undefined;
    if (this.#clock.now() - root.lastAt > this.#windowMs) {
      this.#roots.delete(key);
      return undefined;
    }
    return root;
  }

  /** A new thread starts at a just-posted message; old ones are forgotten once there are many. */
  start(tx: Tx, key: string, rootEventId: string, channel: string, ts: string): void {
    this.#put(tx, key, { rootEventId, channel, ts, lastAt: this.#clock.now() });
    this.#forgetOld(tx);
  }

  /** A reply went into the thread: its window starts again (unless a newer thread started meanwhile). */
  touch(tx: Tx, key: string, rootEventId: string, channel: string, ts: string): void {
    const current = this.#roots.get(key);
    if (current && current.rootEventId !== rootEventId) return;
    this.#put(tx, key, { rootEventId, channel, ts, lastAt: this.#clock.now() });
  }

  /** At start: the roots read back from the outbox that are past their window. */
  async forgetExpired(outbox: Outbox): Promise<void> {
    const now = this.#clock.now();
    const expired = [...this.#roots].filter(([, root]) => now - root.lastAt > this.#windowMs).map(([key]) => key);
    if (expired.length === 0) return;
    await outbox.transaction((tx) => {
      for (const key of expired) this.#delete(tx, key);
    });
  }

  #put(tx: Tx, key: string, root: ThreadRoot): void {
    tx.putThread(key, root);
    tx.ops.push(() => this.#roots.set(key, root));
  }

  #delete(tx: Tx, key: string): void {
    tx.deleteThread(key);
    tx.ops.push(() => this.#roots.delete(key));
  }

  #forgetOld(tx: Tx): void {
    if (this.#roots.size < SWEEP_AT) return;
    const now = this.#clock.now();
    for (const [key, root] of this.#roots) if (now - root.lastAt > this.#windowMs) this.#delete(tx, key);
  }
}
