// BCM pin -> sysfs GPIO number. The kernel numbers sysfs GPIOs per chip from the
// chip's base: old kernels put the Pi's header at base 0, kernels 6.6 and later
// at 512 and up, and a Pi 5 drives its header from the RP1 chip. A fixed number
// (what onoff users hardcode) fails with EINVAL on newer systems, so bellhop reads
// /sys/class/gpio/gpiochip*/{base,label,ngpio} and finds the header's chip.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SYSFS_GPIO_ROOT = '/sys/class/gpio';

export interface GpioChip {
  /** The directory name, e.g. gpiochip512. */
  name: string;
  base: number;
  ngpio: number;
  label: string;
}

/**
 * Labels of the chips that drive the 40-pin header, best first: a Pi 5 also has
 * SoC chips (gpio-brcmstb@..., not on the header), so RP1 wins wherever it is
 * present. bcm2711 is the Pi 4 (and 400, CM4); bcm2835 every earlier Pi.
 */
export const HEADER_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

/** A GPIO setup problem, worded for the person who has to fix it. */
export class GpioSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpioSetupError';
  }
}

export interface ResolvedPin {
  /** The number to write to /sys/class/gpio/export. */
  sysfsNumber: number;
  bcmPin: number;
  /** The chip it was found on; undefined when the config forces sysfsNumber. */
  chip?: GpioChip;
}

export function readChips(root = SYSFS_GPIO_ROOT): GpioChip[] {
  if (!existsSync(root)) {
    throw new GpioSetupError(
      `${root} does not exist: this kernel offers no sysfs GPIO (not a Raspberry Pi, or CONFIG_GPIO_SYSFS is off, as on Raspberry Pi OS Trixie). ` +
        'Where /dev/gpiochip* exists set device.gpio.driver: gpiod (or auto); to try bellhop without a bell, device.gpio.driver: sim.',
    );
  }
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n));
  } catch (err) {
    throw new GpioSetupError(`cannot list ${root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const chips: GpioChip[] = [];
  for (const name of names) {
    const read = (file: string) => readFileSync(join(root, name, file), 'utf8').trim();
    try {
      const chip = { name, base: Number(read('base')), ngpio: Number(read('ngpio')), label: read('label') };
      if (Number.isInteger(chip.base) && Number.isInteger(chip.ngpio)) chips.push(chip);
    } catch {
      // A chip whose attributes cannot be read is not one we could use either.
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/** The chip wired to the 40-pin header, if the kernel reports one we know (sysfs or character device). */
export function findHeaderChip<T extends { label: string }>(chips: readonly T[]): T | undefined {
  for (const label of HEADER_CHIP_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  return undefined;
}

export function describeChip(chip: GpioChip): string {
  return `${chip.label} (${chip.name}, base ${chip.base}, ${chip.ngpio} lines)`;
}

/** Finds the sysfs number of a BCM pin, or uses the configured override. */
export function resolvePin(gpio: { pin: number; sysfsNumber?: number | undefined }, root = SYSFS_GPIO_ROOT): ResolvedPin {
  if (gpio.sysfsNumber !== undefined) return { sysfsNumber: gpio.sysfsNumber, bcmPin: gpio.pin };
  const chips = readChips(root);
  const chip = findHeaderChip(chips);
  if (!chip) {
    const found = chips.length > 0 ? chips.map(describeChip).join('; ') : 'no gpiochip entries at all';
    throw new GpioSetupError(
      `no Raspberry Pi GPIO controller in ${root} (found: ${found}); set device.gpio.sysfsNumber to the pin's sysfs number`,
    );
  }
  if (gpio.pin >= chip.ngpio) {
    throw new GpioSetupError(`BCM pin ${gpio.pin} does not exist on ${describeChip(chip)}`);
  }
  return { sysfsNumber: chip.base + gpio.pin, bcmPin: gpio.pin, chip };
}
