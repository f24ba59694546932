// After the bell was offline, the broker hands over every event it queued in one
// go. Those that arrive late (older than catchUp.maxAgeSeconds) are one backlog:
// policy "once" strikes once for the whole backlog, "skip" rings none of it.
// Never a machine-gun burst either way. Pure time arithmetic: no timers to clear.
import type { CatchUpConfig } from '../shared/config/sections/device.js';
import type { Clock } from '../shared/clock.js';

/** live: ring as usual; ring-once: the one strike for a backlog; caught-up: covered by it; skip: not rung. */
export type CatchUpVerdict = 'live' | 'ring-once' | 'caught-up' | 'skip';

export class CatchUp {
  #rules: CatchUpConfig;
  #clock: Clock;
  #openUntil = -Infinity;
  #count = 0;

  constructor(rules: CatchUpConfig, clock: Clock) {
    this.#rules = rules;
    this.#clock = clock;
  }

  judge(ageMs: number): CatchUpVerdict {
    if (ageMs <= this.#rules.maxAgeSeconds * 1000) return 'live';
    if (this.#rules.policy === 'skip') return 'skip';
    const now = this.#clock.now();
    const open = now < this.#openUntil;
    // Each late event keeps the backlog open a little longer, however long it is.
    this.#openUntil = now + this.#rules.windowSeconds * 1000;
    if (open) {
      this.#count++;
      return 'caught-up';
    }
    this.#count = 1;
    return 'ring-once';
  }

  /** Late events in the current (or last) backlog. */
  get backlog(): number {
    return this.#count;
  }
}
