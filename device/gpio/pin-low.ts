// Drives the bell pin low and releases it, from a fresh process: systemd runs it
// after the agent stops (ExecStopPost), so a pin left high by an agent that was
// killed outright (SIGKILL, OOM, a native crash) does not keep the solenoid hot.
import type { DeviceConfig } from '../../shared/config/schema.js';
import { ABSOLUTE_MAX_PULSE_MS } from '../bell.js';
import { OnoffGpioDriver, type OnoffModule } from './onoff.js';
import { resolvePin } from './chips.js';
import { driveInactive, RELEASE_WAIT_MS } from './gpiod.js';
import { describeLine, resolveLine } from './gpiod-line.js';
import { autoDrivers, gpioInterfaces, type InterfaceProbe } from './interfaces.js';
import type { ToolOptions } from './libgpiod-tools.js';

export interface PinLowOptions extends ToolOptions {
  load?: () => Promise<OnoffModule>;
  probe?: InterfaceProbe;
}

/** Returns a line for people saying what was done. */
export async function drivePinLow(gpio: DeviceConfig['gpio'], opts: PinLowOptions = {}): Promise<string> {
  if (gpio.driver === 'mock' || gpio.driver === 'sim') return `nothing to do: device.gpio.driver is ${gpio.driver}`;
  // The driver the agent used: auto picks sysfs first, as the agent does.
  const use = gpio.driver === 'auto' ? autoDrivers(gpioInterfaces(opts.probe))[0] : gpio.driver;
  if (use === undefined) return 'nothing to do: this machine has neither /sys/class/gpio nor /dev/gpiochip*';
  if (use === 'gpiod') return chardevLow(gpio, opts);
  const pin = resolvePin(gpio);
  // Exporting (or reusing an export left behind) sets the line to its idle level;
  // close() writes 0 once more and unexports.
  const openOpts = opts.load ? { activeLow: gpio.activeLow, load: opts.load } : { activeLow: gpio.activeLow };
  const driver = await OnoffGpioDriver.open(pin, openOpts);
  driver.close();
  return `GPIO ${pin.sysfsNumber} (BCM ${pin.bcmPin}) driven low and released`;
}

function chardevLow(gpio: DeviceConfig['gpio'], opts: ToolOptions): string {
  const tools = opts.env ? { env: opts.env } : {};
  const line = resolveLine(gpio.pin, tools);
  // A strike's gpioset outliving a killed agent holds the line until its own deadline
  // (then drives it inactive itself): wait that out rather than fail busy.
  driveInactive(line, { activeLow: gpio.activeLow, ...tools, waitMs: ABSOLUTE_MAX_PULSE_MS + RELEASE_WAIT_MS });
  return `BCM pin ${gpio.pin}, ${describeLine(line)}: driven inactive (${gpio.activeLow ? 'high on the wire, active low' : 'low'}) and released`;
}
