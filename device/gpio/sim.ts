// A simulated bell for machines without GPIO: shows each strike in the terminal.
import type { GpioDriver, PinValue } from './driver.js';

export class SimGpioDriver implements GpioDriver {
  readonly name = 'sim';
  #pin: number;
  #print: (line: string) => void;
  #highSince: number | undefined;

  constructor(pin: number, print: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {
    this.#pin = pin;
    this.#print = print;
  }

  write(value: PinValue): void {
    if (value === 1) {
      this.#highSince ??= Date.now();
      return;
    }
    if (this.#highSince !== undefined) {
      const ms = Date.now() - this.#highSince;
      this.#highSince = undefined;
      this.#print(`  \u{1F514} *ding*   (simulated bell, pin ${this.#pin}, ${ms} ms pulse)`);
    }
  }

  close(): void {
    this.write(0);
  }
}
