// The bell's pin, checked without striking it: is there sysfs GPIO, which chip
// drives the header, which sysfs number the BCM pin becomes, may this user export
// it, and does the onoff driver load.
import { accessSync, constants, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Config, DeviceConfig } from '../../shared/config/schema.js';
import { describeChip, resolvePin, SYSFS_GPIO_ROOT } from '../../device/gpio/chips.js';
import { loadOnoff } from '../../device/gpio/onoff.js';
import type { DoctorResult, DoctorSection } from './check.js';

export interface GpioProbe {
  root?: string;
  load?: () => Promise<unknown>;
  writable?: (path: string) => boolean;
  user?: string;
}

export async function gpioChecks(gpio: DeviceConfig['gpio'], probe: GpioProbe = {}): Promise<DoctorResult[]> {
  const root = probe.root ?? SYSFS_GPIO_ROOT;
  const writable = probe.writable ?? isWritable;
  const user = probe.user ?? currentUser();
  const results: DoctorResult[] = [];
  if (!existsSync(root)) {
    if (gpio.driver === 'auto') return [{ ok: true, message: `no ${root} here: driver auto uses the simulated bell` }];
  }
  let number: number;
  try {
    const pin = resolvePin(gpio, root);
    number = pin.sysfsNumber;
    if (pin.chip) {
      results.push({ ok: true, message: `found ${describeChip(pin.chip)}` });
      results.push({ ok: true, message: `BCM pin ${pin.bcmPin} is sysfs GPIO ${number}${gpio.activeLow ? ' (active low)' : ''}` });
    } else {
      results.push({ ok: true, message: `sysfs GPIO ${number}, as device.gpio.sysfsNumber says` });
    }
  } catch (err) {
    return [...results, { ok: false, message: (err as Error).message }];
  }
  const exportFile = join(root, 'export');
  results.push(
    writable(exportFile)
      ? { ok: true, message: `${user} may export pins (${exportFile} is writable)` }
      : { ok: false, message: `${user} cannot write ${exportFile}: add it to the gpio group (sudo usermod -aG gpio ${user}, then log in again)` },
  );
  const pinDir = join(root, `gpio${number}`);
  if (existsSync(pinDir)) {
    const value = join(pinDir, 'value');
    results.push(
      writable(value)
        ? { ok: true, message: `GPIO ${number} is already exported (by another program, or an agent that was killed); bellhop takes it over, "bellhop pin-low" releases it` }
        : { ok: false, message: `GPIO ${number} is exported but ${user} cannot write ${value}: add it to the gpio group, or run "sudo bellhop pin-low"` },
    );
  }
  try {
    await (probe.load ?? loadOnoff)();
    results.push({ ok: true, message: 'the onoff GPIO driver loads' });
  } catch (err) {
    results.push({ ok: false, message: (err as Error).message });
  }
  return results;
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'this user';
  }
}

export const gpioSection: DoctorSection = {
  name: 'bell pin',
  applies: (config: Config) => config.device.gpio.driver === 'onoff' || config.device.gpio.driver === 'auto',
  run: (config: Config) => gpioChecks(config.device.gpio),
};
