// Lines for people (the dry run's posts, `bellhop start`'s rings) printed one by one while
// they come slowly enough to read, and summed up once they do not: at 200 events a second a
// line each costs a write each and scrolls past unread. Within any one second the first
// `perSecond` lines are printed; the rest are only counted, and `summaryMs` after the first of
// them one line says how many there were.
import { systemClock, type Clock } from './clock.js';

export interface PrintBudgetOptions {
  /** What the lines are, for the summary: 'posts' gives "… and 1,234 more posts in the last 5 s". */
  what: string;
  /** Put before the summary, as before the lines it stands for, e.g. 'slack (dry run) '. */
  prefix?: string;
  /** Lines printed in any one second before the rest are counted instead (default 10). */
  perSecond?: number;
  /** How long counted lines are summed up before their summary line (default 5 s). */
  summaryMs?: number;
  clock?: Clock;
}

const SECOND = 1000;

export class PrintBudget {
  #print: (line: string) => void;
  #what: string;
  #prefix: string;
  #perSecond: number;
  #summaryMs: number;
  #clock: Clock;
  #windowStart = -Infinity;
  #inWindow = 0;
  #held = 0;
  #firstHeldAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(print: (line: string) => void, opts: PrintBudgetOptions) {
    this.#print = print;
    this.#what = opts.what;
    this.#prefix = opts.prefix ?? '';
    this.#perSecond = opts.perSecond ?? 10;
    this.#summaryMs = opts.summaryMs ?? 5000;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Prints the line, or counts it when this second's budget is spent (a function is then never called). */
  line(text: string | (() => string)): void {
    const now = this.#clock.now();
    if (now - this.#windowStart >= SECOND) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow < this.#perSecond) {
      this.#inWindow++;
      this.#print(typeof text === 'string' ? text : text());
      return;
    }
    if (this.#held++ === 0) this.#firstHeldAt = now;
    if (!this.#timer) {
      this.#timer = this.#clock.setTimeout(() => this.flush(), this.#summaryMs);
      // A summary still to come must not keep a stopping process alive.
      this.#timer.unref?.();
    }
  }

  /** Prints the summary of what was counted, if anything was, now. */
  flush(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#held === 0) return;
    const held = this.#held;
    this.#held = 0;
    // From the first line counted: summaryMs when the timer says it, less on an early flush.
    const seconds = Math.max(1, Math.round((this.#clock.now() - this.#firstHeldAt) / SECOND));
    this.#print(`${this.#prefix}… and ${thousands(held)} more ${this.#what} in the last ${seconds} s`);
  }
}

/** 1234 -> "1,234", without Intl (whose first use maps megabytes of ICU data). */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
