// Burst detection per channel and event type. Up to `threshold` events in a window
// pass one by one; the rest of the window is held and handed back as one batch
// when the window closes (the sink posts it as a digest). A window that was a
// burst makes the next window collect from its first event, until a window stays
// at or below the threshold.
import type { Clock } from '../shared/clock.js';

export interface DigestRules {
  threshold: number;
  windowMs: number;
}

export interface DigestBatch<T> {
  key: string;
  held: T[];
  /** Events of the window, held or not. */
  total: number;
}

interface Window<T> {
  count: number;
  collecting: boolean;
  held: T[];
  timer: NodeJS.Timeout;
}

export class DigestGate<T> {
  #rules: DigestRules;
  #clock: Clock;
  #onBatch: (batch: DigestBatch<T>) => void;
  #windows = new Map<string, Window<T>>();

  constructor(rules: DigestRules, clock: Clock, onBatch: (batch: DigestBatch<T>) => void) {
    this.#rules = rules;
    this.#clock = clock;
    this.#onBatch = onBatch;
  }

  /** 'pass': post it now; 'held': it will come back in a batch when the window closes. */
  offer(key: string, item: T): 'pass' | 'held' {
    if (this.#rules.threshold === 0) return 'pass';
    const window = this.#windows.get(key) ?? this.#open(key, false);
    window.count += 1;
    if (window.collecting || window.count > this.#rules.threshold) {
      window.held.push(item);
      return 'held';
    }
    return 'pass';
  }

  get heldCount(): number {
    let n = 0;
    for (const w of this.#windows.values()) n += w.held.length;
    return n;
  }

  /** Forgets every window (held items stay in the outbox and are offered again after a restart). */
  stop(): void {
    for (const w of this.#windows.values()) this.#clock.clearTimeout(w.timer);
    this.#windows.clear();
  }

  #open(key: string, collecting: boolean): Window<T> {
    const window: Window<T> = {
      count: 0,
      collecting,
      held: [],
      timer: this.#clock.setTimeout(() => this.#close(key), this.#rules.windowMs),
    };
    this.#windows.set(key, window);
    return window;
  }

  #close(key: string): void {
    const window = this.#windows.get(key);
    if (!window) return;
    this.#windows.delete(key);
    if (window.count > this.#rules.threshold) this.#open(key, true);
    if (window.held.length > 0) this.#onBatch({ key, held: window.held, total: window.count });
  }
}
