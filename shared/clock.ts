// Time as a collaborator, so safety rules can be tested with fake timers.
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(handle: NodeJS.Timeout): void;
}

// Looked up at call time so vitest's fake timers, installed later, still apply.
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h),
};

export function sleep(ms: number, clock: Clock = systemClock): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Sleeps on a clock that can wake every sleeper early, so a part that stops does not wait
 *  out a back-off. `sleep` resolves true when the time passed, false when woken. */
export class Sleeps {
  #clock: Clock;
  #pending = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const entry = {
        timer: this.#clock.setTimeout(() => {
          this.#pending.delete(entry);
          resolve(true);
        }, ms),
        wake: () => {
          this.#clock.clearTimeout(entry.timer);
          this.#pending.delete(entry);
          resolve(false);
        },
      };
      this.#pending.add(entry);
    });
  }

  /** Wakes every pending sleep now. */
  wakeAll(): void {
    for (const entry of [...this.#pending]) entry.wake();
  }

  get pending(): number {
    return this.#pending.size;
  }
}
