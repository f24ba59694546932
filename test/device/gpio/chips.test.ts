import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readChips, resolvePin } from '../../../device/gpio/chips.js';
import { BOARDS, type ChipSpec } from '../../helpers/sysfs-gpio.js';
import { tempDir } from '../../helpers/world.js';
import { setupErrorOf } from './setup-error.js';

const dirs: Array<() => void> = [];
afterEach(() => dirs.splice(0).forEach((remove) => remove()));

/** Just the gpiochip attributes the mapping reads, in a plain folder. */
function tree(chips: readonly ChipSpec[]): string {
  const dir = tempDir('bellhop-chips-');
  dirs.push(dir.remove);
  for (const c of chips) {
    const chip = join(dir.path, `gpiochip${c.base}`);
    mkdirSync(chip);
    writeFileSync(join(chip, 'base'), `${c.base}\n`);
    writeFileSync(join(chip, 'ngpio'), `${c.ngpio}\n`);
    writeFileSync(join(chip, 'label'), `${c.label}\n`);
  }
  return dir.path;
}

describe('BCM pin to sysfs number', () => {
  it('is the BCM number itself on a Pi 4 with an old kernel (header chip at base 0)', () => {
    expect(resolvePin({ pin: 17 }, tree(BOARDS['pi4-legacy']))).toMatchObject({ sysfsNumber: 17, chip: { label: 'pinctrl-bcm2711', base: 0 } });
  });

  it('is offset by the header chip\'s base on a Pi 4 with kernel 6.6 (512 + 17)', () => {
    expect(resolvePin({ pin: 17 }, tree(BOARDS['pi4-kernel-6.6'])).sysfsNumber).toBe(529);
  });

  it('comes from the RP1 chip on a Pi 5, not the SoC chips below it (571 + 17)', () => {
    expect(resolvePin({ pin: 17 }, tree(BOARDS.pi5))).toMatchObject({ sysfsNumber: 588, chip: { label: 'pinctrl-rp1' } });
  });

  it('works for the older Pis too (pinctrl-bcm2835)', () => {
    expect(resolvePin({ pin: 4 }, tree([{ base: 512, ngpio: 54, label: 'pinctrl-bcm2835' }])).sysfsNumber).toBe(516);
  });

  it('uses device.gpio.sysfsNumber as given, without reading the chips', () => {
    expect(resolvePin({ pin: 17, sysfsNumber: 600 }, '/nonexistent/gpio')).toEqual({ sysfsNumber: 600, bcmPin: 17 });
  });

  it('says sysfs GPIO is missing and how to try bellhop without a bell', () => {
    expect(setupErrorOf(() => resolvePin({ pin: 17 }, '/nonexistent/gpio'))).toMatch(/\/nonexistent\/gpio does not exist.*driver: sim/);
  });

  it('lists the chips it found when none drives a Pi header, and points at sysfsNumber', () => {
    const message = setupErrorOf(() => resolvePin({ pin: 17 }, tree([{ base: 0, ngpio: 32, label: 'gpio-mockup' }])));
    expect(message).toContain('gpio-mockup (gpiochip0, base 0, 32 lines)');
    expect(message).toContain('device.gpio.sysfsNumber');
  });

  it('refuses a pin beyond the chip', () => {
    expect(setupErrorOf(() => resolvePin({ pin: 40 }, tree([{ base: 571, ngpio: 28, label: 'pinctrl-rp1' }])))).toMatch(
      /BCM pin 40 does not exist on pinctrl-rp1 \(gpiochip571, base 571, 28 lines\)/,
    );
  });

  it('reads every chip, sorted by base', () => {
    expect(readChips(tree(BOARDS.pi5)).map((c) => c.base)).toEqual([512, 544, 548, 565, 571]);
  });
});
