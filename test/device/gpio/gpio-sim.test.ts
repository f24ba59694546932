// Opt-in (BELLHOP_TEST_GPIO_SIM=1, as root): the gpiod driver with this machine's real
// libgpiod tools against a real kernel GPIO chip simulated by gpio-sim, labelled and
// named like a Pi 5's header chip. gpio-sim shows what the line's consumer drives in
// sysfs (sim_gpioN/value). gpio-mockup is no stand-in: its chips are labelled
// gpio-mockup-A and its lines gpio-mockup-A-N, which no Raspberry Pi has.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpiodGpioDriver } from '../../../device/gpio/gpiod.js';
import { detectVersion } from '../../../device/gpio/libgpiod-tools.js';
import { waitFor } from '../../helpers/world.js';

const CONFIGFS = '/sys/kernel/config/gpio-sim';

function unavailableReason(): string | undefined {
  if (process.env.BELLHOP_TEST_GPIO_SIM !== '1') return 'opt-in: set BELLHOP_TEST_GPIO_SIM=1 (as root, on a kernel with gpio-sim: modprobe gpio-sim)';
  if (!existsSync(CONFIGFS)) {
    return existsSync('/sys/module/gpio_mockup')
      ? 'this kernel has gpio-mockup but not gpio-sim, and gpio-mockup cannot carry a Raspberry Pi chip label or line names'
      : `this kernel has no gpio-sim (${CONFIGFS} is missing: CONFIG_GPIO_SIM, configfs mounted, modprobe gpio-sim)`;
  }
  try {
    detectVersion();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

const reason = unavailableReason();
if (reason) console.warn(`skipping the gpio-sim test: ${reason}`);

const sim = join(CONFIGFS, `bellhop-${process.pid}`);
const bank = join(sim, 'bank0');
let valueFile = '';

beforeAll(() => {
  if (reason) return;
  mkdirSync(bank, { recursive: true });
  writeFileSync(join(bank, 'num_lines'), '54');
  writeFileSync(join(bank, 'label'), 'pinctrl-rp1');
  mkdirSync(join(bank, 'line17'));
  writeFileSync(join(bank, 'line17', 'name'), 'GPIO17');
  writeFileSync(join(sim, 'live'), '1');
  const chip = readFileSync(join(bank, 'chip_name'), 'utf8').trim();
  const dev = readFileSync(join(sim, 'dev_name'), 'utf8').trim();
  valueFile = join('/sys/devices/platform', dev, chip, 'sim_gpio17', 'value');
});

afterAll(() => {
  if (reason || !existsSync(sim)) return;
  writeFileSync(join(sim, 'live'), '0');
  rmdirSync(join(bank, 'line17'));
  rmdirSync(bank);
  rmdirSync(sim);
});

const level = () => readFileSync(valueFile, 'utf8').trim();

describe.skipIf(reason !== undefined)('the gpiod driver on a gpio-sim chip, with the real libgpiod tools', () => {
  it('finds GPIO17 by name, pulses it, drives it inactive and keeps it so after close', async () => {
    const driver = GpiodGpioDriver.open(17);
    try {
      expect(driver.line).toMatchObject({ offset: 17, foundBy: 'name' });
      expect(level()).toBe('0');
      driver.write(1);
      await waitFor(() => level() === '1', { what: 'the line to go high' });
      driver.write(0);
      expect(level()).toBe('0');
    } finally {
      driver.close();
    }
    expect(level()).toBe('0');
  });

  it('inverts the wire for an active-low bell', async () => {
    const driver = GpiodGpioDriver.open(17, { activeLow: true });
    try {
      expect(level()).toBe('1');
      driver.write(1);
      await waitFor(() => level() === '0', { what: 'the line to go low (active)' });
      driver.write(0);
      expect(level()).toBe('1');
    } finally {
      driver.close();
    }
  });
});
