// A per-client token bucket: `perMinute` requests a minute, refilled continuously, with
// a burst of the same size. Memory is bounded: past `maxClients`, the least recently
// seen client is forgotten (it starts again with a full bucket, which errs on the open side).
import type { Clock } from '../../shared/clock.js';

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  #buckets = new Map<string, Bucket>();
  #perMinute: number;
  #maxClients: number;
  #clock: Pick<Clock, 'now'>;

  constructor(perMinute: number, clock: Pick<Clock, 'now'>, maxClients = 10_000) {
    this.#perMinute = perMinute;
    this.#clock = clock;
    this.#maxClients = maxClients;
  }

  /** Takes one request from the client's bucket; returns the seconds to wait when empty. */
  take(client: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.#clock.now();
    const bucket = this.#buckets.get(client) ?? { tokens: this.#perMinute, at: now };
    const refill = ((now - bucket.at) / 60_000) * this.#perMinute;
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + Math.max(0, refill));
    bucket.at = now;
    // Re-insert so the map's order is least recently seen first.
    this.#buckets.delete(client);
    this.#buckets.set(client, bucket);
    if (this.#buckets.size > this.#maxClients) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / this.#perMinute)) };
  }

  get clients(): number {
    return this.#buckets.size;
  }
}
