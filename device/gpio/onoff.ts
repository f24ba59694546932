// The real driver: onoff over the kernel's sysfs GPIO. Loaded lazily (it has a
// native dependency) so every other part runs where it cannot load.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { GpioDriver, PinValue } from './driver.js';
import { GpioSetupError, SYSFS_GPIO_ROOT, type ResolvedPin } from './chips.js';

interface OnoffGpio {
  writeSync(value: PinValue): void;
  unexport(): void;
}
export interface OnoffModule {
  Gpio: new (gpio: number, direction: 'low' | 'high', edge?: 'none', options?: { activeLow?: boolean }) => OnoffGpio;
}

export async function loadOnoff(): Promise<OnoffModule> {
  try {
    return (await import('onoff')) as unknown as OnoffModule;
  } catch (err) {
    throw new GpioSetupError(`the onoff GPIO driver could not be loaded (${(err as Error).message}); is the optional dependency installed?`);
  }
}

export function sysfsGpioPresent(root = SYSFS_GPIO_ROOT): boolean {
  return existsSync(root);
}

export interface OnoffOpenOptions {
  activeLow?: boolean;
  /** Tests pass a stand-in for the onoff module. */
  load?: () => Promise<OnoffModule>;
}

export class OnoffGpioDriver implements GpioDriver {
  readonly name = 'onoff';
  readonly sysfsNumber: number;
  #gpio: OnoffGpio | undefined;

  private constructor(gpio: OnoffGpio, sysfsNumber: number) {
    this.#gpio = gpio;
    this.sysfsNumber = sysfsNumber;
  }

  /** Exports the pin as an output that starts at its idle level (off). */
  static async open(pin: ResolvedPin, opts: OnoffOpenOptions = {}): Promise<OnoffGpioDriver> {
    const { Gpio } = await (opts.load ?? loadOnoff)();
    const activeLow = opts.activeLow ?? false;
    // The kernel applies "low"/"high" in the direction file to the raw line, before
    // active_low: an active-low bell is off when the line is high.
    const idle = activeLow ? 'high' : 'low';
    try {
      return new OnoffGpioDriver(new Gpio(pin.sysfsNumber, idle, 'none', { activeLow }), pin.sysfsNumber);
    } catch (err) {
      throw explainGpioError(err, pin);
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

/** Turns an errno from exporting/configuring a pin into what to do about it. */
export function explainGpioError(err: unknown, pin: ResolvedPin): GpioSetupError {
  const e = err as NodeJS.ErrnoException;
  const which = `GPIO ${pin.sysfsNumber} (BCM ${pin.bcmPin})`;
  const where = e.path ? ` (${e.path})` : '';
  switch (e.code) {
    case 'EACCES':
    case 'EPERM': {
      const user = currentUser();
      return new GpioSetupError(
        `${which}: permission denied${where}; add the user running bellhop to the "gpio" group ` +
          `(sudo usermod -aG gpio ${user}, then log in again; the systemd unit uses SupplementaryGroups=gpio)`,
      );
    }
    case 'EBUSY':
      return new GpioSetupError(
        `${which} is busy: a kernel driver or another program holds it (a dtoverlay in /boot/firmware/config.txt, ` +
          'or a process using /dev/gpiochip*); free it or wire the bell to another pin',
      );
    case 'EINVAL':
      return new GpioSetupError(
        `the kernel refused ${which} (EINVAL): not a valid sysfs GPIO number on this board; ` +
          (pin.chip ? 'check device.gpio.pin' : 'remove device.gpio.sysfsNumber so bellhop finds the number itself'),
      );
    case 'ENOENT':
      return new GpioSetupError(`${which}: ${where ? `${e.path} does not exist` : 'no such file'}; is sysfs GPIO available (${SYSFS_GPIO_ROOT})?`);
    default:
      return new GpioSetupError(`${which}: ${e.message ?? String(err)}`);
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '$USER';
  }
}
