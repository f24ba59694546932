// Drives the bell pin low and releases it, from a fresh process: systemd runs it
// after the agent stops (ExecStopPost), so a pin left high by an agent that was
// killed outright (SIGKILL, OOM, a native crash) does not keep the solenoid hot.
import type { DeviceConfig } from '../../shared/config/schema.js';
import { OnoffGpioDriver, sysfsGpioPresent, type OnoffModule } from './onoff.js';
import { resolvePin } from './chips.js';

export interface PinLowOptions {
  load?: () => Promise<OnoffModule>;
}

/** Returns a line for people saying what was done. */
export async function drivePinLow(gpio: DeviceConfig['gpio'], opts: PinLowOptions = {}): Promise<string> {
  if (gpio.driver === 'mock' || gpio.driver === 'sim') return `nothing to do: device.gpio.driver is ${gpio.driver}`;
  if (gpio.driver === 'auto' && !sysfsGpioPresent()) return 'nothing to do: this machine has no /sys/class/gpio';
  const pin = resolvePin(gpio);
  // Exporting (or reusing an export left behind) sets the line to its idle level;
  // close() writes 0 once more and unexports.
  const openOpts = opts.load ? { activeLow: gpio.activeLow, load: opts.load } : { activeLow: gpio.activeLow };
  const driver = await OnoffGpioDriver.open(pin, openOpts);
  driver.close();
  return `GPIO ${pin.sysfsNumber} (BCM ${pin.bcmPin}) driven low and released`;
}
