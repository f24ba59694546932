// Remembers the ids of handled events (the bell's; the server's reports for /metrics) for as
// long as a copy of them could still be rung, so a QoS 1 redelivery (after a broker restart, seconds later) or a sender's
// retry with the same id (after a 503/504 for an event that was published anyway)
// neither strikes nor reports twice. Each id carries its own expiry, given by the
// caller; a hard cap on the number of ids keeps memory bounded whatever the expiries.

/**
 * Most ids held at once, whatever their expiries: the safety net that keeps memory
 * bounded (about 110 bytes an id for UUIDs, so some 5.5 MB when full; ids may be up to
 * 200 characters). It is not taken from the strike rate cap: the bell strikes at most
 * device.bell.maxStrikesPerMinute, but it must remember every event it *receives*,
 * rate-capped ones included (a copy of one would strike once the cap has room again), and
 * it can receive far more. 50,000 ids hold the default max event age (300 s) at about 170
 * events a second, or 100 s at the 500 a second of the fault runs, where redeliveries after
 * a broker restart came within seconds. Beyond that the oldest ids are forgotten early.
 */
export const DEFAULT_MAX_IDS = 50_000;

export class RecentIds {
  /** id -> keep until (ms); insertion order = first seen, so the oldest is first. */
  #ids = new Map<string, number>();
  #max: number;
  #sweepEveryMs: number;
  #nextSweepAt = -Infinity;
  #evictedEarly = 0;

  /**
   * @param max the safety net: beyond this many ids the oldest is forgotten even if it
   *   has not expired (counted in `evictedEarly`). Expiries alone do not bound memory: a
   *   sender's clock far in the future, or a flood of events, would keep ids for days.
   * @param sweepEveryMs how often (on the caller's clock) every expired id is dropped;
   *   between sweeps only expired ids at the head (the oldest) are dropped.
   */
  constructor(max = DEFAULT_MAX_IDS, sweepEveryMs = 10_000) {
    if (!(max >= 1)) throw new RangeError(`max must be at least 1, got ${max}`);
    this.#max = max;
    this.#sweepEveryMs = sweepEveryMs;
  }

  /**
   * True the first time an id is seen, or when its previous copy has expired; it is then
   * remembered until `keepUntil`. For an id still remembered: false, and its expiry is
   * pushed out to `keepUntil` if that is later (a later copy may ring until later).
   */
  add(id: string, keepUntil: number, now: number): boolean {
    this.#expire(now);
    const known = this.#ids.get(id);
    if (known !== undefined && known >= now) {
      if (keepUntil > known) this.#ids.set(id, keepUntil);
      return false;
    }
    // A new id, or an expired one met again: (re)insert it as the newest.
    this.#ids.delete(id);
    this.#ids.set(id, keepUntil);
    while (this.#ids.size > this.#max) {
      const [oldest, until] = this.#ids.entries().next().value as [string, number];
      this.#ids.delete(oldest);
      if (until >= now) this.#evictedEarly++;
    }
    return true;
  }

  /** Whether an id is remembered at `now` (it would be refused by `add`). */
  has(id: string, now: number): boolean {
    const known = this.#ids.get(id);
    return known !== undefined && known >= now;
  }

  /** Ids held right now, expired ones not yet swept included. */
  get size(): number {
    return this.#ids.size;
  }

  /** Ids forgotten before their expiry because the cap was reached, since the start. */
  get evictedEarly(): number {
    return this.#evictedEarly;
  }

  #expire(now: number): void {
    // (A clock stepped back by more than a sweep interval restarts the interval.)
    if (now >= this.#nextSweepAt || now < this.#nextSweepAt - this.#sweepEveryMs) {
      this.#nextSweepAt = now + this.#sweepEveryMs;
      for (const [id, until] of this.#ids) if (until < now) this.#ids.delete(id);
      return;
    }
    // Ids mostly expire in the order they came; the full sweep catches the others.
    for (const [id, until] of this.#ids) {
      if (until >= now) break;
      this.#ids.delete(id);
    }
  }
}
