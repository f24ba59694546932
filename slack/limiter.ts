// Per-channel posting limit: a token bucket (a short burst, then one message per
// interval), plus a pause when Slack answers 429 with Retry-After. Pure: the caller
// passes the time, so the rules are tested without waiting.
export interface LimiterRules {
  intervalMs: number;
  burst: number;
}

export class ChannelLimiter {
  #rules: LimiterRules;
  #tokens: number;
  #updatedAt: number;
  #pausedUntil = 0;

  constructor(rules: LimiterRules, now: number) {
    this.#rules = rules;
    this.#tokens = rules.burst;
    this.#updatedAt = now;
  }

  /** Milliseconds to wait before the next message may go (0 = now). */
  delay(now: number): number {
    this.#refill(now);
    const paused = Math.max(0, this.#pausedUntil - now);
    const forToken = this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) * this.#rules.intervalMs);
    return Math.max(paused, forToken);
  }

  /** Uses up one message; call when the request is made. */
  take(now: number): void {
    this.#refill(now);
    this.#tokens -= 1;
  }

  /** Holds the channel back (Retry-After, or a back-off while Slack fails). */
  pause(now: number, ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, now + ms);
    // After a 429 the bucket starts empty, so the burst does not hit the limit again at once.
    this.#tokens = Math.min(this.#tokens, 0);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#rules.burst, this.#tokens + elapsed / this.#rules.intervalMs);
    this.#updatedAt = now;
  }
}
