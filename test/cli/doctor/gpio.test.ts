import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gpioChecks, gpioSection } from '../../../cli/doctor/gpio.js';
import { parseConfig } from '../../../shared/config/load.js';
import { BOARDS, type ChipSpec } from '../../helpers/sysfs-gpio.js';
import { tempDir } from '../../helpers/world.js';

const dirs: Array<() => void> = [];
afterEach(() => dirs.splice(0).forEach((r) => r()));

function sysfs(chips: readonly ChipSpec[], exported: number[] = []): string {
  const dir = tempDir('bellhop-doctor-');
  dirs.push(dir.remove);
  for (const c of chips) {
    mkdirSync(join(dir.path, `gpiochip${c.base}`));
    for (const [file, v] of Object.entries({ base: c.base, ngpio: c.ngpio, label: c.label })) writeFileSync(join(dir.path, `gpiochip${c.base}`, file), `${v}\n`);
  }
  writeFileSync(join(dir.path, 'export'), '');
  for (const n of exported) {
    mkdirSync(join(dir.path, `gpio${n}`));
    writeFileSync(join(dir.path, `gpio${n}`, 'value'), '0\n');
  }
  return dir.path;
}

const gpio = (raw: Record<string, unknown> = {}) => parseConfig({ device: { gpio: { driver: 'onoff', pin: 17, ...raw } } }).device.gpio;
const loads = async () => ({});

describe('bellhop doctor: the bell pin', () => {
  it('reports the chip, the sysfs number and that this user may export, without touching the pin', async () => {
    const root = sysfs(BOARDS.pi5);
    const results = await gpioChecks(gpio(), { root, load: loads, user: 'pi' });
    expect(results).toEqual([
      { ok: true, message: 'found pinctrl-rp1 (gpiochip571, base 571, 54 lines)' },
      { ok: true, message: 'BCM pin 17 is sysfs GPIO 588' },
      { ok: true, message: `pi may export pins (${root}/export is writable)` },
      { ok: true, message: 'the onoff GPIO driver loads' },
    ]);
  });

  it('says how to fix a permission problem', async () => {
    const root = sysfs(BOARDS['pi4-kernel-6.6']);
    const results = await gpioChecks(gpio(), { root, load: loads, user: 'pi', writable: () => false });
    expect(results.find((r) => !r.ok)?.message).toBe(`pi cannot write ${root}/export: add it to the gpio group (sudo usermod -aG gpio pi, then log in again)`);
  });

  it('notices a pin left exported (by another program, or an agent that was killed)', async () => {
    const root = sysfs(BOARDS['pi4-kernel-6.6'], [529]);
    const results = await gpioChecks(gpio(), { root, load: loads, user: 'pi' });
    expect(results.map((r) => r.message)).toContain(
      'GPIO 529 is already exported (by another program, or an agent that was killed); bellhop takes it over, "bellhop pin-low" releases it',
    );
  });

  it('fails when there is no sysfs GPIO and the onoff driver is asked for, but not with auto', async () => {
    expect(await gpioChecks(gpio(), { root: '/nonexistent/gpio', load: loads })).toEqual([
      { ok: false, message: expect.stringMatching(/^\/nonexistent\/gpio does not exist/) },
    ]);
    expect(await gpioChecks(gpio({ driver: 'auto' }), { root: '/nonexistent/gpio', load: loads })).toEqual([
      { ok: true, message: 'no /nonexistent/gpio here: driver auto uses the simulated bell' },
    ]);
  });

  it('uses a forced sysfs number as it is', async () => {
    const root = sysfs(BOARDS.pi5);
    const results = await gpioChecks(gpio({ sysfsNumber: 600 }), { root, load: loads, user: 'pi' });
    expect(results[0]).toEqual({ ok: true, message: 'sysfs GPIO 600, as device.gpio.sysfsNumber says' });
  });

  it('reports a driver that will not load', async () => {
    const root = sysfs(BOARDS.pi5);
    const results = await gpioChecks(gpio(), { root, user: 'pi', load: () => Promise.reject(new Error('the onoff GPIO driver could not be loaded (no epoll)')) });
    expect(results.at(-1)).toEqual({ ok: false, message: 'the onoff GPIO driver could not be loaded (no epoll)' });
  });

  it('is left out for the simulated and mock bells', () => {
    expect(gpioSection.applies(parseConfig({ device: { gpio: { driver: 'sim' } } }))).toBe(false);
    expect(gpioSection.applies(parseConfig({ device: { gpio: { driver: 'auto' } } }))).toBe(true);
  });
});
