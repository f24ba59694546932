// The real onoff driver, through the built CLI, against an emulated kernel sysfs
// GPIO tree in a private mount namespace (see test/helpers/sysfs-gpio.ts).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BOARDS, namespaceUnavailable, SysfsGpioSandbox, type ChipSpec } from '../../helpers/sysfs-gpio.js';
import { assertBuilt, CLI } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/world.js';
import { agentWorld } from './agent-world.js';

const unavailable = namespaceUnavailable();
if (unavailable) {
  // In CI these tests must run: a skip there would hide a broken pin path.
  if (process.env.CI) throw new Error(`the sysfs GPIO tests cannot run in CI: ${unavailable}`);
  console.warn(`skipping the sysfs GPIO tests: ${unavailable}`);
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A broker, the emulated board, and the agent's config file pointing at both. */
async function world(board: readonly ChipSpec[], gpio: Record<string, unknown> = {}, bell: Record<string, unknown> = {}) {
  const w = await agentWorld({ idPrefix: 'ns-bell', gpio: { driver: 'onoff', ...gpio }, bell, cleanups });
  const sandbox = await SysfsGpioSandbox.start(board);
  cleanups.push(() => sandbox.stop());
  const env = { BELLHOP_CONFIG: w.configFile };
  const startAgent = (nodeArgs: string[] = []) => {
    const agent = sandbox.node([...nodeArgs, CLI, 'agent'], env);
    cleanups.push(() => agent.child.kill('SIGKILL'));
    return agent;
  };
  return { ...w, sandbox, env, startAgent };
}

describe.skipIf(unavailable !== undefined)('the onoff driver on an emulated sysfs GPIO tree', () => {
  beforeAll(() => assertBuilt());

  for (const [board, sysfsNumber] of [
    ['pi4-legacy', 17],
    ['pi4-kernel-6.6', 529],
    ['pi5', 588],
  ] as const) {
    it(`maps BCM 17 to GPIO ${sysfsNumber} on ${board}, strikes the device's own pulse for a ding, and leaves the pin low after SIGTERM`, async () => {
      const w = await world(BOARDS[board]);
      const agent = w.startAgent();
      await w.sandbox.waitForLog(new RegExp(`^export ${sysfsNumber}$`));
      const value = w.sandbox.record(sysfsNumber);
      await w.subscribed();
      expect(w.sandbox.read(`gpio${sysfsNumber}/direction`)).toBe('low');
      expect(w.sandbox.log().filter((l) => l.startsWith('export'))).toEqual([`export ${sysfsNumber}`]);

      // The ding asks for a long pulse; the bell uses its own (120 ms, capped at 150).
      await w.ding({ pulseMs: 900 });
      await waitFor(() => w.seen.rang.length === 1, { what: 'the rang report' });
      expect(w.seen.rang[0]).toMatchObject({ strikes: 1 });
      const [pulse] = await waitFor(() => (value.pulses().length === 1 ? value.pulses() : undefined), { what: 'the pulse on the value file' });
      // Measured between the kernel's write timestamps (coarse clock: a few ms).
      expect(pulse!.ms).toBeGreaterThanOrEqual(110);
      expect(pulse!.ms).toBeLessThan(600);
      expect(value.value).toBe('0');

      agent.child.kill('SIGTERM');
      expect((await agent.exited).code).toBe(0);
      expect(await w.sandbox.waitForLog(new RegExp(`^unexport ${sysfsNumber} `))).toMatch(/value=0 /);
    });
  }

  it('drives the pin low at once when SIGTERM arrives mid-pulse', async () => {
    const w = await world(BOARDS['pi4-kernel-6.6'], {}, { pulseMs: 1000, maxPulseMs: 1000 });
    const agent = w.startAgent();
    await w.sandbox.waitForLog(/^export 529$/);
    const value = w.sandbox.record(529);
    await w.subscribed();
    await w.ding();
    await waitFor(() => value.value === '1', { what: 'the pin to go high' });
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    expect(await w.sandbox.waitForLog(/^unexport 529 /)).toMatch(/value=0 /);
  });

  it('drives the pin low when an uncaught error kills the agent mid-pulse', async () => {
    const w = await world(BOARDS.pi5, {}, { pulseMs: 1000, maxPulseMs: 1000 });
    // A crash from outside bellhop's code: SIGUSR2 makes the process throw.
    const crashOnSignal = 'data:text/javascript,process.on("SIGUSR2",()=>setImmediate(()=>{throw new Error("injected crash")}))';
    const agent = w.startAgent(['--import', crashOnSignal]);
    await w.sandbox.waitForLog(/^export 588$/);
    const value = w.sandbox.record(588);
    await w.subscribed();
    await w.ding();
    await waitFor(() => value.value === '1', { what: 'the pin to go high' });
    agent.child.kill('SIGUSR2');
    expect((await agent.exited).code).toBe(1);
    expect(agent.stderr()).toContain('injected crash');
    expect(await w.sandbox.waitForLog(/^unexport 588 /)).toMatch(/value=0 /);
  });

  it('leaves the pin high when the agent is SIGKILLed mid-pulse, and `bellhop pin-low` (ExecStopPost) brings it down', async () => {
    const w = await world(BOARDS['pi4-kernel-6.6'], {}, { pulseMs: 1000, maxPulseMs: 1000 });
    const agent = w.startAgent();
    await w.sandbox.waitForLog(/^export 529$/);
    const value = w.sandbox.record(529);
    await w.subscribed();
    await w.ding();
    await waitFor(() => value.value === '1', { what: 'the pin to go high' });
    agent.child.kill('SIGKILL');
    await agent.exited;
    expect(w.sandbox.read('gpio529/value')).toBe('1');

    const pinLow = w.sandbox.node([CLI, 'pin-low'], w.env);
    expect((await pinLow.exited).code).toBe(0);
    expect(pinLow.stdout()).toContain('GPIO 529 (BCM 17) driven low and released');
    expect(await w.sandbox.waitForLog(/^unexport 529 /)).toMatch(/value=0 /);
  });

  it('idles an active-low pin high on the wire and still pulses the bell', async () => {
    const w = await world(BOARDS['pi4-legacy'], { activeLow: true });
    const agent = w.startAgent();
    await w.sandbox.waitForLog(/^export 17$/);
    const value = w.sandbox.record(17);
    await w.subscribed();
    // "high" in the direction file is the raw line level: off for an active-low bell.
    expect(w.sandbox.read('gpio17/direction')).toBe('high');
    expect(w.sandbox.read('gpio17/active_low')).toBe('1');
    await w.ding();
    await waitFor(() => value.pulses().length === 1, { what: 'the pulse' });
    agent.child.kill('SIGTERM');
    await agent.exited;
    expect(await w.sandbox.waitForLog(/^unexport 17 /)).toMatch(/value=0 active_low=1/);
  });

  it('fails to start with a clear message when a forced sysfs number is not a GPIO on this board', async () => {
    const w = await world(BOARDS.pi5, { sysfsNumber: 17 });
    const agent = w.startAgent();
    expect((await agent.exited).code).toBe(1);
    expect(w.sandbox.log()).toContain('reject 17');
    expect(agent.stderr()).toMatch(/GPIO 17 \(BCM 17\): .*gpio17\/\w+ does not exist/);
  });
});
