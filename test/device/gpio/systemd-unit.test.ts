// The agent's unit lets the service open exactly the header's /dev/gpiochipN, found on
// the machine being installed (device/gpio/systemd-unit.ts, through install-service).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { renderUnit } from '../../../cli/commands/install-service.js';
import { unitGpioChip, unitGpioChips, withGpioChip } from '../../../device/gpio/systemd-unit.js';
import { CLI } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/world.js';
import { CHARDEV_BOARDS, FakeLibgpiod } from './fake-libgpiod.js';

const TEMPLATE = readFileSync(fileURLToPath(new URL('../../../systemd/bellhop-agent.service', import.meta.url)), 'utf8');
const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
if (!analyze) console.warn('skipping systemd-analyze verify of the GPIO chip lines: systemd-analyze is not installed');

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const render = (gpioChip: string | undefined) =>
  renderUnit(TEMPLATE, { node: process.execPath, main: CLI, user: 'bellhop', gpioGroup: true, systemdVersion: 252, notes: [], gpioChip });

describe('the agent unit and the GPIO character device', () => {
  it('binds exactly the one chip into the private /dev and allows only it, right after PrivateDevices=yes', () => {
    const lines = render('/dev/gpiochip4').split('\n');
    const at = lines.indexOf('PrivateDevices=yes');
    expect(lines.slice(at, at + 3)).toEqual(['PrivateDevices=yes', 'BindPaths=-/dev/gpiochip4', 'DeviceAllow=/dev/gpiochip4 rw']);
    expect(lines.filter((l) => /^(DeviceAllow|BindPaths)=/.test(l))).toHaveLength(2);
    expect(unitGpioChips(lines.join('\n'))).toEqual({ privateDevices: true, allowed: ['/dev/gpiochip4'] });
  });

  it('allows no device at all without a chip (the template as shipped, and the sysfs-only Pi)', () => {
    expect(render(undefined)).not.toMatch(/^(DeviceAllow|BindPaths)=/m);
    expect(unitGpioChips(TEMPLATE)).toEqual({ privateDevices: true, allowed: [] });
    expect(withGpioChip(['PrivateTmp=yes'], '/dev/gpiochip0')).toEqual(['PrivateTmp=yes']);
  });

  it('does not count a chip allowed by the cgroup but missing from the private /dev', () => {
    expect(unitGpioChips('PrivateDevices=yes\nDeviceAllow=/dev/gpiochip0 rw\n').allowed).toEqual([]);
    expect(unitGpioChips('DeviceAllow=/dev/gpiochip0 rw\n')).toEqual({ privateDevices: false, allowed: ['/dev/gpiochip0'] });
  });

  it.skipIf(!analyze)('is accepted by systemd-analyze verify with the chip lines in it', () => {
    const dir = tempDir('bellhop-unit-');
    cleanups.push(dir.remove);
    const file = join(dir.path, 'bellhop-agent.service');
    writeFileSync(file, render('/dev/gpiochip0'));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('is given the header chip found by its label on this machine, whatever its number', () => {
    const f = new FakeLibgpiod(2, CHARDEV_BOARDS['pi5-early']);
    cleanups.push(f.remove);
    const notes: string[] = [];
    expect(unitGpioChip('/', notes, { env: { ...process.env, ...f.env() }, devDir: f.devDir })).toBe(`${f.devDir}/gpiochip4`);
    expect(notes).toEqual([`the unit lets the agent open ${f.devDir}/gpiochip4 (the header's GPIO chip, pinctrl-rp1) and no other device`]);
  });

  it('gets none, and says why, under --root, without a character device, or when the tools cannot tell', () => {
    const f = new FakeLibgpiod(1, CHARDEV_BOARDS.pi4);
    cleanups.push(f.remove);
    const env = { ...process.env, ...f.env() };
    const notes: string[] = [];
    expect(unitGpioChip('/srv/image', notes, { env, devDir: f.devDir })).toBeUndefined();
    expect(unitGpioChip('/', notes, { env, devDir: '/nonexistent/dev' })).toBeUndefined();
    expect(unitGpioChip('/', notes, { env: { ...env, FAKE_GPIO_DENY: '1' }, devDir: f.devDir })).toBeUndefined();
    expect(notes).toEqual([
      expect.stringMatching(/^installing under --root: the unit allows no GPIO character device/),
      expect.stringMatching(/^cannot tell which \/dev\/gpiochipN drives the header \(.*Permission denied.*\): the unit allows none/),
    ]);
  });
});
