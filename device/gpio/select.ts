// Picks the GPIO driver the config asks for ("auto": a real pin where the kernel
// offers one, else the simulated bell).
import type { DeviceConfig } from '../../shared/config/schema.js';
import type { GpioDriver } from './driver.js';
import { MockGpioDriver } from './mock.js';
import { SimGpioDriver } from './sim.js';
import { OnoffGpioDriver, sysfsGpioPresent } from './onoff.js';

export interface DriverSelection {
  print?: (line: string) => void;
  warn?: (message: string) => void;
}

export async function createGpioDriver(gpio: DeviceConfig['gpio'], opts: DriverSelection = {}): Promise<GpioDriver> {
  switch (gpio.driver) {
    case 'mock':
      return new MockGpioDriver();
    case 'sim':
      return new SimGpioDriver(gpio.pin, opts.print);
    case 'onoff':
      return OnoffGpioDriver.open(gpio.pin);
    case 'auto':
      if (sysfsGpioPresent()) {
        try {
          return await OnoffGpioDriver.open(gpio.pin);
        } catch (err) {
          opts.warn?.(`no usable GPIO pin (${(err as Error).message}); using the simulated bell`);
        }
      }
      return new SimGpioDriver(gpio.pin, opts.print);
  }
}
