// Picks the GPIO driver the config asks for ("auto": a real pin where the kernel
// offers one, else the simulated bell).
import type { DeviceConfig } from '../../shared/config/schema.js';
import type { GpioDriver } from './driver.js';
import { MockGpioDriver } from './mock.js';
import { SimGpioDriver } from './sim.js';
import { OnoffGpioDriver, sysfsGpioPresent } from './onoff.js';
import { describeChip, resolvePin } from './chips.js';

export interface DriverSelection {
  print?: (line: string) => void;
  warn?: (message: string) => void;
  /** Told which sysfs number the BCM pin became, and on which chip. */
  info?: (message: string) => void;
}

export async function createGpioDriver(gpio: DeviceConfig['gpio'], opts: DriverSelection = {}): Promise<GpioDriver> {
  switch (gpio.driver) {
    case 'mock':
      return new MockGpioDriver();
    case 'sim':
      return new SimGpioDriver(gpio.pin, opts.print);
    case 'onoff':
      return openOnoff(gpio, opts);
    case 'auto':
      if (sysfsGpioPresent()) {
        try {
          return await openOnoff(gpio, opts);
        } catch (err) {
          opts.warn?.(`no usable GPIO pin (${(err as Error).message}); using the simulated bell`);
        }
      }
      return new SimGpioDriver(gpio.pin, opts.print);
  }
}

async function openOnoff(gpio: DeviceConfig['gpio'], opts: DriverSelection): Promise<OnoffGpioDriver> {
  const pin = resolvePin(gpio);
  const driver = await OnoffGpioDriver.open(pin, { activeLow: gpio.activeLow });
  opts.info?.(
    pin.chip
      ? `BCM pin ${pin.bcmPin} is sysfs GPIO ${pin.sysfsNumber} on ${describeChip(pin.chip)}${gpio.activeLow ? ', active low' : ''}`
      : `sysfs GPIO ${pin.sysfsNumber} (device.gpio.sysfsNumber)${gpio.activeLow ? ', active low' : ''}`,
  );
  return driver;
}
