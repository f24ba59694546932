// The character-device driver against fake libgpiod tools of both major versions on
// PATH (test/fixtures/libgpiod), which record each run's argv and each level with its time.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GpiodGpioDriver } from '../../../device/gpio/gpiod.js';
import { parseVersion } from '../../../device/gpio/libgpiod-tools.js';
import { ABSOLUTE_MAX_PULSE_MS } from '../../../device/bell.js';
import { tempDir, waitFor } from '../../helpers/world.js';
import { CHARDEV_BOARDS, FakeLibgpiod, FIXTURES, type FakeChip, type LibgpiodMajor } from './fake-libgpiod.js';
import { setupErrorOf } from './setup-error.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));

function fake(major: LibgpiodMajor, board: readonly FakeChip[] = CHARDEV_BOARDS.pi5, opts: { unnamed?: boolean } = {}) {
  const f = new FakeLibgpiod(major, board, opts);
  cleanups.push(f.remove);
  return { f, env: { ...process.env, ...f.env() } };
}

function open(major: LibgpiodMajor, board?: readonly FakeChip[], opts: { activeLow?: boolean; unnamed?: boolean; pin?: number } = {}) {
  const { f, env } = fake(major, board, opts);
  const warnings: string[] = [];
  const driver = GpiodGpioDriver.open(opts.pin ?? 17, { env, activeLow: opts.activeLow ?? false, warn: (m) => warnings.push(m) });
  cleanups.push(() => driver.close());
  return { f, driver, warnings };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A pulse as the bell controller makes one: write(1), wait, write(0); timed from the holder's
 * start, since these shell fakes take longer to start than gpioset does (tens of ms on a busy
 * machine), and a pulse shorter than that would end before the fake drove the line.
 */
async function pulse(driver: GpiodGpioDriver, f: FakeLibgpiod, ms: number): Promise<void> {
  const holds = () => f.runs('gpioset').filter((r) => r.args.at(-1)?.endsWith('=1')).length;
  const before = holds();
  driver.write(1);
  await waitFor(() => holds() > before, { what: 'the holding gpioset to start' });
  await sleep(ms);
  driver.write(0);
}

describe('the libgpiod version', () => {
  it('is read from gpioset --version in the 1.x, 2.x and 2.3+ formats', () => {
    expect(parseVersion('gpioset (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski')).toEqual({ major: 1, text: '1.6.3' });
    expect(parseVersion('gpioset (libgpiod) v2.2.1')).toEqual({ major: 2, text: '2.2.1' });
    expect(parseVersion('gpioset v2.3 (libgpiod v2.2)')).toEqual({ major: 2, text: '2.3' });
    expect(parseVersion('gpioset: something else')).toBeUndefined();
  });

  it('is asked once, at open, however many strikes follow', async () => {
    const { f, driver } = open(2);
    for (let i = 0; i < 3; i++) await pulse(driver, f, 20);
    expect(f.runs('gpioset').filter((r) => r.args.includes('--version'))).toHaveLength(1);
    expect(f.runs('gpioset')[0]!.args).toEqual(['--version']);
  });
});

describe('the gpiod driver with libgpiod 1.6 (Bookworm)', () => {
  it('finds the line by name with gpiofind and addresses it by chip and offset, wherever the kernel numbered the chip', async () => {
    const { f, driver } = open(1, CHARDEV_BOARDS['pi5-early']);
    expect(driver.line).toMatchObject({ chip: 'gpiochip4', offset: 17, foundBy: 'name', version: { major: 1, text: '1.6.3' } });
    expect(f.runs('gpiofind').map((r) => r.args)).toEqual([['GPIO17']]);
    await pulse(driver, f, 60);
    const [hold, ...rest] = f.runs('gpioset').filter((r) => r.args.at(-1) === '17=1');
    expect(rest).toEqual([]);
    // The hold carries the bell's absolute cap as its own deadline, split so --usec stays below a second.
    expect(hold!.args).toEqual(['--mode=time', `--sec=${ABSOLUTE_MAX_PULSE_MS / 1000}`, '--usec=0', '--bias=pull-down', 'gpiochip4', '17=1']);
  });

  it('ends each pulse with a gpioset of its own that drives the line inactive, timed as the bell asked', async () => {
    const { f, driver } = open(1, CHARDEV_BOARDS.pi4);
    await pulse(driver, f, 120);
    const [p] = f.pulses('gpiochip0', 17);
    expect(p!.sinceRunMs).toBeGreaterThanOrEqual(120);
    expect(p!.ms).toBeGreaterThan(0);
    expect(p!.ms).toBeLessThan(300);
    // Not the holder's release (what a line does then is the kernel's choice): another gpioset drove it to 0.
    expect(p!.endPid).not.toBe(p!.startPid);
    expect(f.runs('gpioset').at(-1)!.args).toEqual(['--bias=pull-down', 'gpiochip0', '17=0']);
    expect(f.level('gpiochip0', 17)).toBe(0);
  });

  it('finds the line by the chip label when the device tree names no lines (BCM number = offset)', async () => {
    const { f, driver } = open(1, CHARDEV_BOARDS.pi3, { unnamed: true, pin: 4 });
    expect(driver.line).toMatchObject({ chip: 'gpiochip0', offset: 4, foundBy: 'label' });
    await pulse(driver, f, 60);
    expect(f.pulses('gpiochip0', 4)).toHaveLength(1);
  });

  it('inverts the wire for an active-low bell: idle high (pulled up), the strike low', async () => {
    const { f, driver } = open(1, CHARDEV_BOARDS.pi4, { activeLow: true });
    expect(f.level('gpiochip0', 17)).toBe(1);
    await pulse(driver, f, 50);
    expect(f.pulses('gpiochip0', 17, 0)).toHaveLength(1);
    expect(f.level('gpiochip0', 17)).toBe(1);
    expect(f.runs('gpioset').at(-1)!.args).toEqual(['--bias=pull-up', '--active-low', 'gpiochip0', '17=0']);
  });
});

describe('the gpiod driver with libgpiod 2.x (Trixie)', () => {
  it('looks the name up on the header chip with gpioinfo and sets the line by name with -c and -t', async () => {
    const { f, driver } = open(2);
    expect(driver.line).toMatchObject({ chip: 'gpiochip0', offset: 17, name: 'GPIO17', foundBy: 'name', version: { major: 2 } });
    expect(f.runs('gpioinfo').map((r) => r.args)).toEqual([['-c', 'gpiochip0', 'GPIO17']]);
    expect(f.runs('gpiofind')).toEqual([]);
    await pulse(driver, f, 80);
    const sets = f.runs('gpioset').filter((r) => !r.args.includes('--version')).map((r) => r.args);
    expect(sets).toEqual([
      ['-c', 'gpiochip0', '--bias=pull-down', '-t', '0', 'GPIO17=0'],
      ['-c', 'gpiochip0', '--bias=pull-down', '-t', `${ABSOLUTE_MAX_PULSE_MS}ms,0`, 'GPIO17=1'],
      ['-c', 'gpiochip0', '--bias=pull-down', '-t', '0', 'GPIO17=0'],
    ]);
    const [p] = f.pulses('gpiochip0', 17);
    expect(p!.sinceRunMs).toBeGreaterThanOrEqual(80);
    expect(p!.ms).toBeGreaterThan(0);
    expect(p!.ms).toBeLessThan(250);
    expect(p!.endPid).not.toBe(p!.startPid);
  });

  it('uses the offset on the labelled chip when the line has no name', async () => {
    const { f, driver } = open(2, CHARDEV_BOARDS.pi4, { unnamed: true });
    expect(driver.line).toMatchObject({ chip: 'gpiochip0', offset: 17, foundBy: 'label' });
    await pulse(driver, f, 60);
    expect(f.runs('gpioset').at(-2)!.args.at(-1)).toBe('17=1');
    expect(f.runs('gpioset').at(-1)!.args.at(-1)).toBe('17=0');
    expect(f.pulses('gpiochip0', 17)).toHaveLength(1);
  });
});

describe('the gpiod driver, either version', () => {
  for (const major of [1, 2] as const) {
    it(`v${major}: drives the line inactive by itself at the absolute cap when nobody ends the pulse (an agent killed mid-pulse)`, async () => {
      const { f, driver } = open(major);
      driver.write(1);
      const p = await waitFor(() => f.pulses('gpiochip0', 17)[0], { timeoutMs: ABSOLUTE_MAX_PULSE_MS + 3000, what: 'the pulse to end on its own' });
      expect(p.ms).toBeGreaterThanOrEqual(ABSOLUTE_MAX_PULSE_MS - 50);
      expect(p.ms).toBeLessThan(ABSOLUTE_MAX_PULSE_MS + 500);
      expect(f.level('gpiochip0', 17)).toBe(0);
    });

    it(`v${major}: close() drives the line inactive mid-pulse, and writes after it do nothing`, async () => {
      const { f, driver } = open(major);
      driver.write(1);
      await waitFor(() => f.level('gpiochip0', 17) === 1, { what: 'the line to go active' });
      driver.close();
      expect(f.level('gpiochip0', 17)).toBe(0);
      const runs = f.runs('gpioset').length;
      driver.write(1);
      await sleep(50);
      expect(f.runs('gpioset')).toHaveLength(runs);
      driver.close();
    });
  }

  it('says what to install when libgpiod\'s tools are missing', () => {
    const empty = tempDir('bellhop-no-tools-');
    cleanups.push(empty.remove);
    expect(setupErrorOf(() => GpiodGpioDriver.open(17, { env: { PATH: empty.path } }))).toMatch(/gpioset is not installed.*sudo apt install gpiod/);
  });

  it('says to join the gpio group when the chips may not be opened', () => {
    const { env } = fake(2);
    expect(setupErrorOf(() => GpiodGpioDriver.open(17, { env: { ...env, FAKE_GPIO_DENY: '1' } }))).toMatch(/Permission denied: this user may not open the GPIO chip; add it to the "gpio" group/);
  });

  it('lists the chips it found when none is a Raspberry Pi header and no line has the name', () => {
    const { env } = fake(1, [{ name: 'gpiochip0', label: 'gpio-mockup-A', lines: 32 }]);
    expect(setupErrorOf(() => GpiodGpioDriver.open(17, { env }))).toBe(
      'no line named GPIO17 and no Raspberry Pi GPIO chip among the character devices (found: gpio-mockup-A (gpiochip0, 32 lines))',
    );
  });

  it('fails the start, saying who holds it, when another program holds the line', async () => {
    const { f, env } = fake(2);
    const other = spawn(join(FIXTURES, 'v2', 'gpioset'), ['-c', 'gpiochip0', 'GPIO17=1'], { env, stdio: 'ignore' });
    cleanups.push(() => other.kill('SIGKILL'));
    await waitFor(() => f.level('gpiochip0', 17) === 1, { what: 'the other program to take the line' });
    expect(setupErrorOf(() => GpiodGpioDriver.open(17, { env }))).toMatch(/Device or resource busy: another program or a kernel driver .* holds the line/);
  });

  it('warns when a strike could not reach the pin', async () => {
    const { f, driver, warnings } = open(2);
    const env = { ...process.env, ...f.env() };
    const other = spawn(join(FIXTURES, 'v2', 'gpioset'), ['-c', 'gpiochip0', 'GPIO17=0'], { env, stdio: 'ignore' });
    cleanups.push(() => other.kill('SIGKILL'));
    await waitFor(() => f.runs('gpioset').length >= 3 && f.changes().length >= 2, { what: 'the other program to take the line' });
    driver.write(1);
    await waitFor(() => warnings[0], { what: 'a warning' });
    expect(warnings[0]).toMatch(/^a strike did not reach the pin: .*busy/);
  });
});
