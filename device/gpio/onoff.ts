// The real driver: onoff over the kernel's sysfs GPIO. Loaded lazily (it has a
// native dependency) so every other part runs where it cannot load.
import { existsSync } from 'node:fs';
import type { GpioDriver, PinValue } from './driver.js';

interface OnoffGpio {
  writeSync(value: PinValue): void;
  unexport(): void;
}
interface OnoffModule {
  Gpio: (new (gpio: number, direction: 'low', edge?: 'none', options?: { activeLow?: boolean }) => OnoffGpio) & {
    accessible: boolean;
  };
}

export async function loadOnoff(): Promise<OnoffModule> {
  try {
    return (await import('onoff')) as unknown as OnoffModule;
  } catch (err) {
    throw new Error(`the onoff GPIO driver could not be loaded (${(err as Error).message}); is the optional dependency installed?`);
  }
}

export function sysfsGpioPresent(root = '/sys/class/gpio'): boolean {
  return existsSync(root);
}

export class OnoffGpioDriver implements GpioDriver {
  readonly name = 'onoff';
  #gpio: OnoffGpio | undefined;

  private constructor(gpio: OnoffGpio) {
    this.#gpio = gpio;
  }

  /** Exports the pin as an output that starts low. */
  static async open(sysfsNumber: number, activeLow = false): Promise<OnoffGpioDriver> {
    const { Gpio } = await loadOnoff();
    try {
      return new OnoffGpioDriver(new Gpio(sysfsNumber, 'low', 'none', { activeLow }));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EACCES') {
        throw new Error(`GPIO ${sysfsNumber}: permission denied; add the service user to the "gpio" group`);
      }
      if (e.code === 'EBUSY') throw new Error(`GPIO ${sysfsNumber}: the pin is busy (exported by another program?)`);
      if (e.code === 'EINVAL') throw new Error(`GPIO ${sysfsNumber}: the kernel refused this sysfs number (EINVAL)`);
      throw new Error(`GPIO ${sysfsNumber}: ${e.message}`);
    }
  }

  write(value: PinValue): void {
    this.#gpio?.writeSync(value);
  }

  close(): void {
    const gpio = this.#gpio;
    if (!gpio) return;
    this.#gpio = undefined;
    try {
      gpio.writeSync(0);
    } finally {
      gpio.unexport();
    }
  }
}
