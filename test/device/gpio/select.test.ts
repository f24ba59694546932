// Which driver `auto` takes where, and `bellhop pin-low` on the character device, with
// the fake libgpiod tools of test/fixtures/libgpiod.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGpioDriver } from '../../../device/gpio/select.js';
import { drivePinLow } from '../../../device/gpio/pin-low.js';
import { GpiodGpioDriver } from '../../../device/gpio/gpiod.js';
import { SimGpioDriver } from '../../../device/gpio/sim.js';
import type { GpioDriver } from '../../../device/gpio/driver.js';
import { parseConfig } from '../../../shared/config/load.js';
import { waitFor } from '../../helpers/world.js';
import { CHARDEV_BOARDS, FakeLibgpiod, FIXTURES, type LibgpiodMajor } from './fake-libgpiod.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));

const gpio = (raw: Record<string, unknown> = {}) => parseConfig({ device: { gpio: { pin: 17, ...raw } } }).device.gpio;
const NO_SYSFS = '/nonexistent/sys/class/gpio';

function fake(major: LibgpiodMajor, board = CHARDEV_BOARDS.pi5) {
  const f = new FakeLibgpiod(major, board);
  cleanups.push(f.remove);
  return { f, env: { ...process.env, ...f.env() } };
}

async function select(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, devDir: string) {
  const said = { info: [] as string[], warn: [] as string[], print: [] as string[] };
  const driver: GpioDriver = await createGpioDriver(gpio(raw), {
    env,
    probe: { sysfsRoot: NO_SYSFS, devDir },
    info: (m) => said.info.push(m),
    warn: (m) => said.warn.push(m),
    print: (l) => said.print.push(l),
  });
  cleanups.push(() => driver.close());
  return { driver, said };
}

describe('driver auto', () => {
  for (const major of [1, 2] as const) {
    it(`takes the character device where there is no sysfs GPIO (libgpiod ${major}), and says which line it found`, async () => {
      const { f, env } = fake(major);
      const { driver, said } = await select({ driver: 'auto' }, env, f.devDir);
      expect(driver).toBeInstanceOf(GpiodGpioDriver);
      expect(said.warn).toEqual([]);
      expect(said.info).toEqual([
        `BCM pin 17 is line 17 "GPIO17" of pinctrl-rp1 (gpiochip0, 54 lines), found by name (gpiod driver: libgpiod ${major === 1 ? '1.6.3' : '2.2.1'} tools, /dev/gpiochip0)`,
      ]);
    });
  }

  it('uses the simulated bell where there is neither interface, without a warning', async () => {
    const { env } = fake(2);
    const { driver, said } = await select({ driver: 'auto' }, env, '/nonexistent/dev');
    expect(driver).toBeInstanceOf(SimGpioDriver);
    expect(said.warn).toEqual([]);
  });

  it('falls back to the simulated bell, saying why, when the character device cannot be used', async () => {
    const { f, env } = fake(2);
    const { driver, said } = await select({ driver: 'auto' }, { ...env, FAKE_GPIO_DENY: '1' }, f.devDir);
    expect(driver).toBeInstanceOf(SimGpioDriver);
    expect(said.warn).toEqual([expect.stringMatching(/^no usable GPIO pin through the gpiod driver \(.*Permission denied.*\); using the simulated bell$/)]);
  });

  it('is not what a forced gpiod is: that fails the start instead', async () => {
    const { f, env } = fake(2);
    await expect(select({ driver: 'gpiod' }, { ...env, FAKE_GPIO_DENY: '1' }, f.devDir)).rejects.toThrow(/Permission denied/);
  });
});

describe('bellhop pin-low on the character device', () => {
  it('drives the line inactive with a gpioset of its own, for driver gpiod', async () => {
    const { f, env } = fake(1, CHARDEV_BOARDS.pi4);
    const said = await drivePinLow(gpio({ driver: 'gpiod' }), { env });
    expect(said).toBe('BCM pin 17, line 17 "GPIO17" of pinctrl-bcm2711 (gpiochip0, 58 lines), found by name: driven inactive (low) and released');
    expect(f.runs('gpioset').at(-1)!.args).toEqual(['--bias=pull-down', 'gpiochip0', '17=0']);
    expect(f.level('gpiochip0', 17)).toBe(0);
  });

  it('also for driver auto where only the character device is, and an active-low bell ends high on the wire', async () => {
    const { f, env } = fake(2);
    const said = await drivePinLow(gpio({ driver: 'auto', activeLow: true }), { env, probe: { sysfsRoot: NO_SYSFS, devDir: f.devDir } });
    expect(said).toMatch(/driven inactive \(high on the wire, active low\)/);
    expect(f.level('gpiochip0', 17)).toBe(1);
  });

  it('waits out a strike\'s gpioset left holding the line by a killed agent, then drives the line inactive', async () => {
    const { f, env } = fake(1, CHARDEV_BOARDS.pi4);
    // What a SIGKILLed agent leaves: its strike's gpioset, holding the line active for the rest of its hold.
    const orphan = spawn(join(FIXTURES, 'v1', 'gpioset'), ['--mode=time', '--sec=0', '--usec=600000', 'gpiochip0', '17=1'], { env, stdio: 'ignore' });
    cleanups.push(() => orphan.kill('SIGKILL'));
    await waitFor(() => f.level('gpiochip0', 17) === 1, { what: 'the orphan to hold the line' });
    const started = Date.now();
    await drivePinLow(gpio({ driver: 'gpiod' }), { env });
    expect(Date.now() - started).toBeGreaterThan(300);
    expect(f.level('gpiochip0', 17)).toBe(0);
    expect(f.changes('gpiochip0', 17).at(-1)!.pid).not.toBe(orphan.pid);
  });

  it('has nothing to do for auto on a machine with neither interface', async () => {
    expect(await drivePinLow(gpio({ driver: 'auto' }), { probe: { sysfsRoot: NO_SYSFS, devDir: '/nonexistent/dev' } })).toBe(
      'nothing to do: this machine has neither /sys/class/gpio nor /dev/gpiochip*',
    );
  });
});
