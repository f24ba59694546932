// The built CLI on a machine with only the GPIO character device (chardev-sandbox.ts)
// and fake libgpiod tools of both major versions, and on one with only sysfs GPIO
// (test/helpers/sysfs-gpio.ts): which driver `auto` takes, the pulse on the line, the
// line after SIGTERM and after SIGKILL, and what `bellhop doctor` says.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from '../../helpers/cli.js';
import { BOARDS, namespaceUnavailable, SysfsGpioSandbox } from '../../helpers/sysfs-gpio.js';
import { waitFor } from '../../helpers/world.js';
import { agentWorld } from './agent-world.js';
import { ChardevSandbox, chardevSandboxUnavailable } from './chardev-sandbox.js';
import { CHARDEV_BOARDS, FakeLibgpiod, type LibgpiodMajor } from './fake-libgpiod.js';

const unavailable = chardevSandboxUnavailable() ?? namespaceUnavailable();
if (unavailable) {
  // In CI these must run: a skip there would hide a broken pin path.
  if (process.env.CI) throw new Error(`the GPIO character-device tests cannot run in CI: ${unavailable}`);
  console.warn(`skipping the GPIO character-device tests: ${unavailable}`);
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A broker, a config file for the agent, and a watcher of its rang reports. */
const bellWorld = (bell: Record<string, unknown> = {}) => agentWorld({ idPrefix: 'chardev-bell', gpio: { driver: 'auto' }, bell, cleanups });

/** Only the character device, the Pi 5's chips, and libgpiod `major`'s fake tools. */
async function chardevWorld(major: LibgpiodMajor, bell: Record<string, unknown> = {}) {
  const w = await bellWorld(bell);
  const board = CHARDEV_BOARDS.pi5;
  const sandbox = await ChardevSandbox.start(board.map((c) => c.name));
  cleanups.push(() => sandbox.stop());
  const fake = new FakeLibgpiod(major, board, { devDir: '/dev' });
  cleanups.push(fake.remove);
  const env = { ...fake.env(), BELLHOP_CONFIG: w.configFile };
  const run = (args: string[]) => {
    const p = sandbox.node([CLI, ...args], env);
    cleanups.push(() => p.child.kill('SIGKILL'));
    return p;
  };
  return { ...w, fake, run };
}

describe.skipIf(unavailable !== undefined)('bellhop agent with driver auto and only the GPIO character device', () => {
  beforeAll(() => assertBuilt());

  for (const major of [1, 2] as const) {
    it(`strikes through libgpiod ${major}'s gpioset with the bell's own pulse, and leaves the line low after SIGTERM`, async () => {
      const w = await chardevWorld(major);
      const agent = w.run(['agent']);
      await w.subscribed();
      await waitFor(() => agent.stdout().includes('(gpiod driver)'), { what: 'the banner naming the gpiod driver' });
      expect(agent.stderr()).toMatch(/BCM pin 17 is line 17 \\?"GPIO17\\?" of pinctrl-rp1 \(gpiochip0, 54 lines\), found by name/);
      expect(w.fake.level('gpiochip0', 17)).toBe(0);

      // The ding asks for a long pulse; the bell uses its own (120 ms, capped at 150).
      await w.ding({ pulseMs: 900 });
      await waitFor(() => w.seen.rang.length === 1, { what: 'the rang report' });
      expect(w.seen.rang[0]).toMatchObject({ strikes: 1 });
      const [pulse] = await waitFor(() => (w.fake.pulses('gpiochip0', 17).length === 1 ? w.fake.pulses('gpiochip0', 17) : undefined), { what: 'the pulse' });
      expect(pulse!.sinceRunMs).toBeGreaterThanOrEqual(100);
      expect(pulse!.ms).toBeGreaterThan(0);
      expect(pulse!.ms).toBeLessThan(600);
      expect(pulse!.endPid).not.toBe(pulse!.startPid);
      expect(w.fake.runs('gpioset').filter((r) => r.args.includes('--version'))).toHaveLength(1);

      agent.child.kill('SIGTERM');
      expect((await agent.exited).code).toBe(0);
      expect(w.fake.level('gpiochip0', 17)).toBe(0);
      expect(w.fake.changes('gpiochip0', 17).at(-1)!.level).toBe(0);
    });
  }

  it('leaves the line high while a SIGKILLed agent\'s gpioset holds it, which ends it by the cap; `bellhop pin-low` drives it low too', async () => {
    const w = await chardevWorld(1, { pulseMs: 1000, maxPulseMs: 1000 });
    const agent = w.run(['agent']);
    await w.subscribed();
    await w.ding();
    await waitFor(() => w.fake.level('gpiochip0', 17) === 1, { what: 'the line to go high' });
    agent.child.kill('SIGKILL');
    await agent.exited;
    // The kernel freed nothing: the strike's gpioset outlives the agent, holding the line.
    expect(w.fake.level('gpiochip0', 17)).toBe(1);

    const pinLow = w.run(['pin-low']);
    expect((await pinLow.exited).code).toBe(0);
    expect(pinLow.stdout()).toContain('BCM pin 17, line 17 "GPIO17" of pinctrl-rp1 (gpiochip0, 54 lines), found by name: driven inactive (low) and released');
    expect(w.fake.level('gpiochip0', 17)).toBe(0);
    const [pulse] = w.fake.pulses('gpiochip0', 17);
    expect(pulse!.ms).toBeLessThan(1000 + 600);
    // The last word was pin-low's own gpioset.
    expect(w.fake.runs('gpioset').at(-1)!.args).toEqual(['--bias=pull-down', 'gpiochip0', '17=0']);
  });

  it('is what `bellhop doctor` reports: the interface, libgpiod, the chip and line, and that this user may open it', async () => {
    const w = await chardevWorld(2);
    const doctor = w.run(['doctor']);
    await doctor.exited;
    const out = doctor.stdout();
    expect(out).toMatch(/ok {3}this machine offers the GPIO character device \(\/dev\/gpiochip0, \/dev\/gpiochip10, .*\) only \(no \/sys\/class\/gpio\): driver auto uses gpiod\n/);
    expect(out).toContain('ok   libgpiod 2.2.1 tools (gpioset -c/-t with gpioinfo)\n');
    expect(out).toContain('ok   BCM pin 17 is line 17 "GPIO17" of pinctrl-rp1 (gpiochip0, 54 lines), found by name\n');
    expect(out).toMatch(/ok {3}\S+ may open \/dev\/gpiochip0 \(group \w+, mode 0660\)\n/);
    expect(w.fake.changes()).toEqual([]);
  });
});

describe.skipIf(unavailable !== undefined)('bellhop agent with driver auto and only sysfs GPIO', () => {
  beforeAll(() => assertBuilt());

  it('still uses onoff, and `bellhop doctor` says so', async () => {
    const w = await bellWorld();
    const sandbox = await SysfsGpioSandbox.start(BOARDS.pi5);
    cleanups.push(() => sandbox.stop());
    const env = { BELLHOP_CONFIG: w.configFile };
    const agent = sandbox.node([CLI, 'agent'], env);
    cleanups.push(() => agent.child.kill('SIGKILL'));
    await sandbox.waitForLog(/^export 588$/);
    await w.subscribed();
    await waitFor(() => agent.stdout().includes('(onoff driver)'), { what: 'the banner naming the onoff driver' });
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    expect(await sandbox.waitForLog(/^unexport 588 /)).toMatch(/value=0 /);

    const doctor = sandbox.node([CLI, 'doctor'], env);
    await doctor.exited;
    expect(doctor.stdout()).toMatch(/ok {3}this machine offers (sysfs GPIO only|both sysfs GPIO).*: driver auto uses onoff/);
    expect(doctor.stdout()).toContain('ok   BCM pin 17 is sysfs GPIO 588\n');
  });
});
