// Which GPIO interfaces this kernel offers, and so which real driver `auto` tries first.
// Reports disagree on which Raspberry Pi OS images still have sysfs GPIO (Trixie and
// some Pi 5 images lack it), so bellhop looks instead of assuming: sysfs where it is
// there (onoff, as before), else the character device (gpiod), else the simulated bell.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SYSFS_GPIO_ROOT } from './chips.js';

export const CHARDEV_DIR = '/dev';

export interface GpioInterfaces {
  sysfs: boolean;
  /** /dev/gpiochipN nodes, sorted by number. */
  chardev: string[];
}

export interface InterfaceProbe {
  sysfsRoot?: string;
  devDir?: string;
}

export function gpioInterfaces(probe: InterfaceProbe = {}): GpioInterfaces {
  const devDir = probe.devDir ?? CHARDEV_DIR;
  let chardev: string[] = [];
  try {
    chardev = readdirSync(devDir)
      .filter((n) => /^gpiochip\d+$/.test(n))
      .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)))
      .map((n) => join(devDir, n));
  } catch {
    // No readable /dev is no character device either.
  }
  return { sysfs: existsSync(probe.sysfsRoot ?? SYSFS_GPIO_ROOT), chardev };
}

export type RealDriver = 'onoff' | 'gpiod';

/** The drivers `auto` tries, in order; the simulated bell comes after them all. */
export function autoDrivers(i: GpioInterfaces): RealDriver[] {
  return [...(i.sysfs ? (['onoff'] as const) : []), ...(i.chardev.length > 0 ? (['gpiod'] as const) : [])];
}

export function describeInterfaces(i: GpioInterfaces, sysfsRoot = SYSFS_GPIO_ROOT): string {
  const chardev = `the GPIO character device (${i.chardev.join(', ')})`;
  if (i.sysfs && i.chardev.length > 0) return `both sysfs GPIO (${sysfsRoot}) and ${chardev}`;
  if (i.sysfs) return `sysfs GPIO only (${sysfsRoot}; no /dev/gpiochip*)`;
  if (i.chardev.length > 0) return `${chardev} only (no ${sysfsRoot})`;
  return `neither sysfs GPIO (${sysfsRoot}) nor a GPIO character device (/dev/gpiochip*)`;
}
