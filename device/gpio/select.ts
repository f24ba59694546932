// Picks the GPIO driver the config asks for ("auto": a real pin where the kernel offers
// one, sysfs first, then the character device; else the simulated bell).
import type { DeviceConfig } from '../../shared/config/schema.js';
import type { GpioDriver } from './driver.js';
import { MockGpioDriver } from './mock.js';
import { SimGpioDriver } from './sim.js';
import { OnoffGpioDriver } from './onoff.js';
import { describeChip, resolvePin } from './chips.js';
import { GpiodGpioDriver } from './gpiod.js';
import { describeLine } from './gpiod-line.js';
import { autoDrivers, gpioInterfaces, type InterfaceProbe, type RealDriver } from './interfaces.js';
import type { ToolOptions } from './libgpiod-tools.js';

export interface DriverSelection extends ToolOptions {
  print?: (line: string) => void;
  warn?: (message: string) => void;
  /** Told which pin or line the BCM pin became, on which chip, by which driver. */
  info?: (message: string) => void;
  /** Where auto looks for the interfaces (tests). */
  probe?: InterfaceProbe;
}

export async function createGpioDriver(gpio: DeviceConfig['gpio'], opts: DriverSelection = {}): Promise<GpioDriver> {
  switch (gpio.driver) {
    case 'mock':
      return new MockGpioDriver();
    case 'sim':
      return new SimGpioDriver(gpio.pin, opts.print);
    case 'onoff':
    case 'gpiod':
      return openReal(gpio.driver, gpio, opts);
    case 'auto': {
      const order = autoDrivers(gpioInterfaces(opts.probe));
      for (const [i, driver] of order.entries()) {
        try {
          return await openReal(driver, gpio, opts);
        } catch (err) {
          const next = order[i + 1] ? `trying the ${order[i + 1]} driver` : 'using the simulated bell';
          opts.warn?.(`no usable GPIO pin through the ${driver} driver (${(err as Error).message}); ${next}`);
        }
      }
      return new SimGpioDriver(gpio.pin, opts.print);
    }
  }
}

function openReal(driver: RealDriver, gpio: DeviceConfig['gpio'], opts: DriverSelection): Promise<GpioDriver> {
  return driver === 'onoff' ? openOnoff(gpio, opts) : Promise.resolve(openGpiod(gpio, opts));
}

async function openOnoff(gpio: DeviceConfig['gpio'], opts: DriverSelection): Promise<OnoffGpioDriver> {
  const pin = resolvePin(gpio);
  const driver = await OnoffGpioDriver.open(pin, { activeLow: gpio.activeLow });
  opts.info?.(
    pin.chip
      ? `BCM pin ${pin.bcmPin} is sysfs GPIO ${pin.sysfsNumber} on ${describeChip(pin.chip)}${gpio.activeLow ? ', active low' : ''} (onoff driver)`
      : `sysfs GPIO ${pin.sysfsNumber} (device.gpio.sysfsNumber)${gpio.activeLow ? ', active low' : ''} (onoff driver)`,
  );
  return driver;
}

function openGpiod(gpio: DeviceConfig['gpio'], opts: DriverSelection): GpiodGpioDriver {
  const driver = GpiodGpioDriver.open(gpio.pin, {
    activeLow: gpio.activeLow,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.warn ? { warn: opts.warn } : {}),
  });
  const { line } = driver;
  opts.info?.(
    `BCM pin ${gpio.pin} is ${describeLine(line)}${gpio.activeLow ? ', active low' : ''} ` +
      `(gpiod driver: libgpiod ${line.version.text} tools, /dev/${line.chip})`,
  );
  return driver;
}
