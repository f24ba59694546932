// Counts per minute over a sliding hour (events by type, rings by bell), for the
// page's chart. Separate from the recent-events store so a burst larger than that
// store still shows in full.
export interface MinuteCounterOptions {
  now: () => number;
  minutes?: number;
  /** Distinct keys per minute; more are counted under OTHER so memory stays bounded. */
  maxKeys?: number;
}

export const MINUTE_MS = 60_000;
export const OTHER = 'other';

export class MinuteCounter {
  #now: () => number;
  #minutes: number;
  #maxKeys: number;
  #buckets = new Map<number, Map<string, number>>();

  constructor(opts: MinuteCounterOptions) {
    this.#now = opts.now;
    this.#minutes = opts.minutes ?? 60;
    this.#maxKeys = opts.maxKeys ?? 40;
  }

  add(key: string): void {
    const minute = Math.floor(this.#now() / MINUTE_MS);
    this.#prune(minute);
    let bucket = this.#buckets.get(minute);
    if (!bucket) {
      bucket = new Map();
      this.#buckets.set(minute, bucket);
    }
    const k = bucket.has(key) || bucket.size < this.#maxKeys ? key : OTHER;
    bucket.set(k, (bucket.get(k) ?? 0) + 1);
  }

  /** One entry per minute of the window, oldest first, empty minutes included. */
  series(): Array<{ start: string; counts: Record<string, number> }> {
    const current = Math.floor(this.#now() / MINUTE_MS);
    this.#prune(current);
    const out: Array<{ start: string; counts: Record<string, number> }> = [];
    for (let m = current - this.#minutes + 1; m <= current; m++) {
      out.push({ start: new Date(m * MINUTE_MS).toISOString(), counts: Object.fromEntries(this.#buckets.get(m) ?? []) });
    }
    return out;
  }

  /** Sums over the whole window. */
  totals(): Record<string, number> {
    this.#prune(Math.floor(this.#now() / MINUTE_MS));
    const totals: Record<string, number> = {};
    for (const bucket of this.#buckets.values()) for (const [k, n] of bucket) totals[k] = (totals[k] ?? 0) + n;
    return totals;
  }

  #prune(current: number): void {
    for (const m of this.#buckets.keys()) if (m <= current - this.#minutes) this.#buckets.delete(m);
  }
}
