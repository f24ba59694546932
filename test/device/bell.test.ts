import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BellController, ABSOLUTE_MAX_PULSE_MS, type RingRequest } from '../../device/bell.js';
import { MockGpioDriver } from '../../device/gpio/mock.js';
import { systemClock } from '../../shared/clock.js';
import { parseConfig } from '../../shared/config/load.js';
import type { BellConfig } from '../../shared/config/schema.js';
import { silentLogger } from '../helpers/world.js';

function rules(over: Partial<BellConfig> = {}): BellConfig {
  return { ...parseConfig({}).device.bell, ...over };
}

let n = 0;
function request(over: Partial<RingRequest> = {}): RingRequest {
  return { eventId: `e${++n}`, type: 'user.signup', time: new Date().toISOString(), strikes: 1, ...over };
}

describe('BellController', () => {
  let driver: MockGpioDriver;
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-25T10:00:00Z') });
    driver = new MockGpioDriver();
  });
  afterEach(() => vi.useRealTimers());

  it('strikes once with the configured pulse length and leaves the pin low', async () => {
    const bell = new BellController(driver, rules({ pulseMs: 40 }), systemClock, silentLogger());
    const done = bell.ring(request());
    await vi.advanceTimersByTimeAsync(1000);
    expect(await done).toEqual({ eventId: expect.any(String), strikes: 1 });
    expect(driver.pulses().map((p) => p.ms)).toEqual([40]);
    expect(driver.value).toBe(0);
  });

  it('never holds the pin longer than maxPulseMs, whatever pulseMs says', async () => {
    // The schema refuses pulseMs > maxPulseMs, so build the rules directly as a buggy caller might.
    const bell = new BellController(driver, { ...rules(), pulseMs: 900, maxPulseMs: 50 }, systemClock, silentLogger());
    const done = bell.ring(request());
    await vi.advanceTimersByTimeAsync(2000);
    await done;
    expect(driver.pulses().map((p) => p.ms)).toEqual([50]);
  });

  it('caps every pulse at the absolute maximum even when the config caps are raised', async () => {
    const bell = new BellController(driver, { ...rules(), pulseMs: 5000, maxPulseMs: 5000 }, systemClock, silentLogger());
    const done = bell.ring(request());
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    expect(driver.pulses().map((p) => p.ms)).toEqual([ABSOLUTE_MAX_PULSE_MS]);
  });

  it('keeps at least minGapMs low between strikes even when gapMs is smaller', async () => {
    const bell = new BellController(driver, rules({ pulseMs: 10, gapMs: 5, minGapMs: 200 }), systemClock, silentLogger());
    const all = Promise.all([bell.ring(request({ strikes: 2 })), bell.ring(request())]);
    await vi.advanceTimersByTimeAsync(5000);
    await all;
    const pulses = driver.pulses();
    expect(pulses).toHaveLength(3);
    for (let i = 1; i < pulses.length; i++) expect(pulses[i]!.start - pulses[i - 1]!.end).toBeGreaterThanOrEqual(200);
  });

  it('coalesces events beyond the per-minute cap into one later strike', async () => {
    const bell = new BellController(driver, rules({ pulseMs: 10, gapMs: 100, minGapMs: 100, maxStrikesPerMinute: 3 }), systemClock, silentLogger());
    const outcomes = Promise.all(Array.from({ length: 8 }, () => bell.ring(request())));
    await vi.advanceTimersByTimeAsync(5000);
    const results = await outcomes;
    expect(results.filter((r) => r.strikes === 1)).toHaveLength(3);
    expect(results.filter((r) => r.suppressed === 'rate-cap')).toHaveLength(5);
    expect(driver.pulses()).toHaveLength(3);
    // A minute after the first strike the window has room: the 5 excess events get one strike together.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(driver.pulses()).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(driver.pulses()).toHaveLength(4);
  });

  it('does not ring for events older than maxEventAgeSeconds', async () => {
    const bell = new BellController(driver, rules({ maxEventAgeSeconds: 60 }), systemClock, silentLogger());
    const old = new Date(Date.now() - 61_000).toISOString();
    expect(await bell.ring(request({ time: old }))).toMatchObject({ strikes: 0, suppressed: 'too-old' });
    const fresh = bell.ring(request({ time: new Date(Date.now() - 59_000).toISOString() }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(await fresh).toMatchObject({ strikes: 1 });
    expect(driver.pulses()).toHaveLength(1);
  });

  it('drives the pin low at once when stopped mid-pulse and rings nothing after', async () => {
    const bell = new BellController(driver, rules({ pulseMs: 80 }), systemClock, silentLogger());
    const first = bell.ring(request({ strikes: 3 }));
    await vi.advanceTimersByTimeAsync(20);
    expect(driver.value).toBe(1);
    bell.stop();
    expect(driver.value).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(await first).toMatchObject({ suppressed: 'stopped' });
    expect(driver.writes.filter((w) => w.value === 1)).toHaveLength(1);
  });
});
