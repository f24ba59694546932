// `bellhop doctor` on the bell pin where the character device is (cli/doctor/gpio.ts),
// with the fake libgpiod tools of test/fixtures/libgpiod.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gpioChecks, gpioSection } from '../../../cli/doctor/gpio.js';
import { parseConfig } from '../../../shared/config/load.js';
import { tempDir } from '../../helpers/world.js';
import { CHARDEV_BOARDS, FakeLibgpiod, type FakeChip, type LibgpiodMajor } from './fake-libgpiod.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const gpio = (raw: Record<string, unknown> = {}) => parseConfig({ device: { gpio: { pin: 17, ...raw } } }).device.gpio;
const NO_SYSFS = '/nonexistent/sys/class/gpio';

function world(major: LibgpiodMajor, board: readonly FakeChip[] = CHARDEV_BOARDS.pi5, unit?: string) {
  const f = new FakeLibgpiod(major, board);
  cleanups.push(f.remove);
  const dir = tempDir('bellhop-doctor-chardev-');
  cleanups.push(dir.remove);
  // The nodes as Raspberry Pi OS's udev rules leave them: group gpio, mode 0660 (the
  // fake nodes belong to this process's group, which the group file calls gpio).
  for (const c of board) chmodSync(join(f.devDir, c.name), 0o660);
  const groupFile = join(dir.path, 'group');
  writeFileSync(groupFile, `gpio:x:${process.getgid!()}:bellhop\n`);
  const unitFile = join(dir.path, 'bellhop-agent.service');
  if (unit !== undefined) writeFileSync(unitFile, unit);
  const probe = { root: NO_SYSFS, devDir: f.devDir, env: { ...process.env, ...f.env() }, user: 'bellhop', openable: () => true, groupFile, unitFile, load: async () => ({}) };
  return { f, probe, dir: dir.path };
}

const unitAllowing = (dev: string) => `[Service]\nPrivateDevices=yes\nBindPaths=-${dev}\nDeviceAllow=${dev} rw\n`;

describe('bellhop doctor: the bell pin on the GPIO character device', () => {
  it('reports the interface, which driver auto takes, libgpiod, the chip and line, and who may open the chip', async () => {
    const { f, probe } = world(2, CHARDEV_BOARDS.pi5, unitAllowing('/dev/gpiochip0'));
    const chips = CHARDEV_BOARDS.pi5.map((c) => join(f.devDir, c.name)).sort((a, b) => Number(a.split('gpiochip')[1]) - Number(b.split('gpiochip')[1]));
    expect(await gpioChecks(gpio({ driver: 'auto' }), probe)).toEqual([
      { ok: true, message: `this machine offers the GPIO character device (${chips.join(', ')}) only (no ${NO_SYSFS}): driver auto uses gpiod` },
      { ok: true, message: 'libgpiod 2.2.1 tools (gpioset -c/-t with gpioinfo)' },
      { ok: true, message: 'BCM pin 17 is line 17 "GPIO17" of pinctrl-rp1 (gpiochip0, 54 lines), found by name' },
      { ok: true, message: `bellhop may open ${f.devDir}/gpiochip0 (group gpio, mode 0660)` },
      { ok: true, message: `the bellhop service may open ${f.devDir}/gpiochip0 too (SupplementaryGroups=gpio)` },
      { ok: true, message: `the installed unit ${probe.unitFile} lets the agent open exactly /dev/gpiochip0 (PrivateDevices=yes, BindPaths=, DeviceAllow=)` },
    ]);
    // Looked at, never struck: no gpioset but the version question.
    expect(f.runs('gpioset').map((r) => r.args)).toEqual([['--version']]);
  });

  it('says libgpiod 1.6 and the chip the kernel numbered, and fails a unit that allows another chip number', async () => {
    const { probe } = world(1, CHARDEV_BOARDS['pi5-early'], unitAllowing('/dev/gpiochip0'));
    const results = await gpioChecks(gpio({ driver: 'gpiod' }), probe);
    expect(results.slice(0, 2)).toEqual([
      { ok: true, message: 'libgpiod 1.6.3 tools (gpioset --mode=time with gpiofind)' },
      { ok: true, message: 'BCM pin 17 is line 17 "GPIO17" of pinctrl-rp1 (gpiochip4, 54 lines), found by name' },
    ]);
    expect(results.at(-1)).toEqual({
      ok: false,
      message: `the installed unit ${probe.unitFile} allows /dev/gpiochip0, not /dev/gpiochip4 (a kernel update can renumber the chips): run "sudo bellhop install-service agent" again`,
    });
  });

  it('fails when this user may not open the chip, and warns when the service could not either', async () => {
    const { f, probe } = world(2, CHARDEV_BOARDS.pi4);
    chmodSync(join(f.devDir, 'gpiochip0'), 0o600);
    const results = await gpioChecks(gpio({ driver: 'gpiod' }), { ...probe, openable: () => false });
    expect(results.filter((r) => !r.ok || r.warning)).toEqual([
      { ok: false, message: `bellhop cannot open ${f.devDir}/gpiochip0 (group gpio, mode 0600): add it to the gpio group (sudo usermod -aG gpio bellhop, then log in again)` },
      { ok: true, warning: true, message: expect.stringMatching(/is not read-write for group gpio .* SUBSYSTEM=="gpio", KERNEL=="gpiochip\*", GROUP="gpio", MODE="0660"$/) },
    ]);
  });

  it('says what to install when the tools are missing', async () => {
    const { probe } = world(2);
    const empty = tempDir('bellhop-no-tools-');
    cleanups.push(empty.remove);
    expect(await gpioChecks(gpio({ driver: 'gpiod' }), { ...probe, env: { PATH: empty.path } })).toEqual([
      { ok: false, message: expect.stringMatching(/^gpioset is not installed: .*\(sudo apt install gpiod\)$/) },
    ]);
  });

  it('takes sysfs first where the Pi has both, and checks that path', async () => {
    const { f, probe, dir } = world(2, CHARDEV_BOARDS.pi4);
    const sysfs = join(dir, 'sysfs');
    mkdirSync(join(sysfs, 'gpiochip512'), { recursive: true });
    for (const [file, v] of Object.entries({ base: 512, ngpio: 58, label: 'pinctrl-bcm2711' })) writeFileSync(join(sysfs, 'gpiochip512', file), `${v}\n`);
    writeFileSync(join(sysfs, 'export'), '');
    const results = await gpioChecks(gpio({ driver: 'auto' }), { ...probe, root: sysfs });
    expect(results.map((r) => r.message)).toEqual([
      `this machine offers both sysfs GPIO (${sysfs}) and the GPIO character device (${f.devDir}/gpiochip0, ${f.devDir}/gpiochip1): driver auto uses onoff (gpiod if that fails)`,
      'found pinctrl-bcm2711 (gpiochip512, base 512, 58 lines)',
      'BCM pin 17 is sysfs GPIO 529',
      `bellhop may export pins (${sysfs}/export is writable)`,
      'the onoff GPIO driver loads',
    ]);
  });

  it('runs for driver gpiod too', () => {
    expect(gpioSection.applies(parseConfig({ device: { gpio: { driver: 'gpiod' } } }))).toBe(true);
  });
});
