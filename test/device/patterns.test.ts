import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BellController, type RingRequest } from '../../device/bell.js';
import { patternFor } from '../../device/patterns.js';
import { MockGpioDriver } from '../../device/gpio/mock.js';
import { systemClock } from '../../shared/clock.js';
import { parseConfig } from '../../shared/config/load.js';
import type { BellConfig } from '../../shared/config/schema.js';
import { silentLogger } from '../helpers/world.js';

function bell(raw: Record<string, unknown> = {}): BellConfig {
  return parseConfig({ device: { bell: raw } }).device.bell;
}

let n = 0;
const request = (over: Partial<RingRequest> = {}): RingRequest => ({
  eventId: `p${++n}`,
  type: 'user.signup',
  time: new Date().toISOString(),
  strikes: 1,
  ...over,
});

describe('ring patterns', () => {
  it('default to one strike for a signup, two for an upgrade, three for a big deal, one for the rest', () => {
    const rules = bell();
    expect(patternFor(rules, 'user.signup').strikes).toBe(1);
    expect(patternFor(rules, 'subscription.upgraded').strikes).toBe(2);
    expect(patternFor(rules, 'deal.won').strikes).toBe(3);
    expect(patternFor(rules, 'deploy.failed')).toEqual({ strikes: 1, pulseMs: rules.pulseMs, gapMs: rules.gapMs });
  });

  it('take their own pulse and gap, else the bell\'s', () => {
    const rules = bell({ pulseMs: 40, gapMs: 150, patterns: { 'deal.won': { strikes: 3, pulseMs: 60, gapMs: 400 }, 'user.signup': { strikes: 2 } } });
    expect(patternFor(rules, 'deal.won')).toEqual({ strikes: 3, pulseMs: 60, gapMs: 400 });
    expect(patternFor(rules, 'user.signup')).toEqual({ strikes: 2, pulseMs: 40, gapMs: 150 });
  });

  it('let the bell.strikes shorthand override a pattern\'s strike count', () => {
    expect(patternFor(bell({ strikes: { 'deal.won': 5 } }), 'deal.won').strikes).toBe(5);
  });
});

describe('the bell controller with patterns', () => {
  let driver: MockGpioDriver;
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-25T10:00:00Z') });
    driver = new MockGpioDriver();
  });
  afterEach(() => vi.useRealTimers());

  it('strikes a pattern with its pulse and gap', async () => {
    const controller = new BellController(driver, bell({ minGapMs: 100 }), systemClock, silentLogger());
    const done = controller.ring(request({ strikes: 3, pulseMs: 60, gapMs: 400 }));
    await vi.advanceTimersByTimeAsync(5000);
    expect(await done).toMatchObject({ strikes: 3 });
    const pulses = driver.pulses();
    expect(pulses.map((p) => p.ms)).toEqual([60, 60, 60]);
    expect(pulses[1]!.start - pulses[0]!.end).toBe(400);
    expect(pulses[2]!.start - pulses[1]!.end).toBe(400);
  });

  it('caps a pattern\'s pulse at maxPulseMs and lifts its gap to minGapMs', async () => {
    const controller = new BellController(driver, bell({ maxPulseMs: 80, minGapMs: 250 }), systemClock, silentLogger());
    const done = controller.ring(request({ strikes: 2, pulseMs: 1000, gapMs: 0 }));
    await vi.advanceTimersByTimeAsync(5000);
    await done;
    const pulses = driver.pulses();
    expect(pulses.map((p) => p.ms)).toEqual([80, 80]);
    expect(pulses[1]!.start - pulses[0]!.end).toBe(250);
  });

  it('refuses a command older than its time-to-live', async () => {
    const controller = new BellController(driver, bell(), systemClock, silentLogger());
    const old = new Date(Date.now() - 11_000).toISOString();
    expect(await controller.ring(request({ time: old, ttlMs: 10_000 }))).toMatchObject({ strikes: 0, suppressed: 'expired' });
    const fresh = controller.ring(request({ time: new Date(Date.now() - 9_000).toISOString(), ttlMs: 10_000 }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(await fresh).toMatchObject({ strikes: 1 });
    expect(driver.pulses()).toHaveLength(1);
  });
});
