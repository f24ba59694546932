// Records every write with a timestamp: what tests and the benchmark use.
import type { GpioDriver, PinValue } from './driver.js';

export interface PinWrite {
  value: PinValue;
  at: number;
}

export interface Pulse {
  start: number;
  end: number;
  ms: number;
}

export class MockGpioDriver implements GpioDriver {
  readonly name = 'mock';
  readonly writes: PinWrite[] = [];
  closed = false;
  #now: () => number;
  #listeners = new Set<(w: PinWrite) => void>();

  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
  }

  get value(): PinValue {
    return this.writes[this.writes.length - 1]?.value ?? 0;
  }

  write(value: PinValue): void {
    const w = { value, at: this.#now() };
    this.writes.push(w);
    for (const l of this.#listeners) l(w);
  }

  close(): void {
    if (this.value !== 0) this.write(0);
    this.closed = true;
  }

  /** Calls fn on every write (the benchmark times GPIO writes this way). */
  onWrite(fn: (w: PinWrite) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** High periods, from each 0->1 to the following 1->0. */
  pulses(): Pulse[] {
    const out: Pulse[] = [];
    let start: number | undefined;
    for (const w of this.writes) {
      if (w.value === 1 && start === undefined) start = w.at;
      else if (w.value === 0 && start !== undefined) {
        out.push({ start, end: w.at, ms: w.at - start });
        start = undefined;
      }
    }
    return out;
  }
}
