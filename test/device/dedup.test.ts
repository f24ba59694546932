// The bell handles an event once: a copy that comes again (a QoS 1 redelivery after a
// broker restart, a sender's retry with the same id) is acked with no strike and no
// second `rang` report for as long as the event could still ring, with memory bounded.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { AgentPart, DEDUP_MARGIN_MS } from '../../device/agent.js';
import { RecentIds } from '../../shared/recent-ids.js';
import { MockGpioDriver } from '../../device/gpio/mock.js';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../shared/config/schema.js';
import { toEnvelope } from '../../shared/envelope.js';
import { parseRang, type RangReport } from '../../shared/messages.js';
import { connectClient, silentLogger, startBroker, testConfig, waitFor, withBroker } from '../helpers/world.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the memory of handled event ids', () => {
  it('knows an id until its expiry, and takes it as new after that', () => {
    const ids = new RecentIds();
    expect(ids.add('a', 1000, 0)).toBe(true);
    expect(ids.add('a', 1000, 500)).toBe(false);
    expect(ids.add('a', 1000, 1000)).toBe(false);
    expect(ids.has('a', 1001)).toBe(false);
    expect(ids.add('a', 3000, 1001)).toBe(true);
    expect(ids.add('a', 3000, 2000)).toBe(false);
  });

  it('keeps an id longer when a later copy of it could ring until later', () => {
    const ids = new RecentIds();
    ids.add('a', 1000, 0);
    expect(ids.add('a', 5000, 900)).toBe(false);
    expect(ids.add('a', 10, 4000)).toBe(false);
    expect(ids.has('a', 5001)).toBe(false);
  });

  it('never holds more ids than its cap, forgetting the oldest first and counting those forgotten early', () => {
    const ids = new RecentIds(100);
    for (let i = 0; i < 1000; i++) {
      ids.add(`id-${i}`, 1_000_000, i);
      expect(ids.size).toBeLessThanOrEqual(100);
    }
    expect(ids.size).toBe(100);
    expect(ids.evictedEarly).toBe(900);
    expect(ids.has('id-899', 1000)).toBe(false);
    expect(ids.has('id-900', 1000)).toBe(true);
  });

  it('drops expired ids even behind one kept for long (an event time far in the future)', () => {
    const ids = new RecentIds(1000, 10_000);
    ids.add('far-future', 1e12, 0);
    for (let i = 0; i < 500; i++) ids.add(`id-${i}`, 5000, 0);
    expect(ids.size).toBe(501);
    ids.add('later', 20_000, 10_000);
    expect(ids.size).toBe(2);
    expect(ids.evictedEarly).toBe(0);
  });
});

/** Real timers, and a "now" the test can move forward. */
function movableClock(): Clock & { advance: (ms: number) => void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h),
    advance: (ms) => void (offset += ms),
  };
}

let n = 0;

async function world(bell: Record<string, unknown> = {}, dedupMaxIds?: number) {
  const clock = movableClock();
  const base = testConfig({
    device: { id: `dedup-${process.pid}-${++n}`, events: ['user.signup'], bell: { pulseMs: 5, gapMs: 5, minGapMs: 5, ...bell } },
  });
  const broker = await startBroker(base);
  cleanups.push(() => broker.stop());
  const config: Config = withBroker(base, broker.url);
  const id = config.device.id;

  const client: MqttClient = await connectClient(broker.url);
  cleanups.push(() => client.endAsync());
  const rang: RangReport[] = [];
  client.on('message', (topic, payload) => {
    const r = topic.endsWith(`/${id}/rang`) ? parseRang(payload) : undefined;
    if (r) rang.push(r);
  });
  await client.subscribeAsync(`bellhop/devices/${id}/rang`, { qos: 1 });

  const driver = new MockGpioDriver(() => clock.now());
  const agent = new AgentPart({ config, driver, logger: silentLogger(), clock, ...(dedupMaxIds ? { dedupMaxIds } : {}) });
  const subscribed = once(agent, 'subscribed');
  await agent.start();
  cleanups.push(() => agent.stop());
  await subscribed;

  const sent = new Map<string, string>();
  /**
   * Publishes a signup as the server would, dated `ageMs` ago (< 0: in the future); a
   * second publish of an id sends the very same envelope again, as a redelivery does,
   * unless `restamp` dates it anew (a sender's retry without a time of its own).
   */
  const publish = (eventId: string, ageMs = 0, restamp = false) => {
    const payload =
      (restamp ? undefined : sent.get(eventId)) ??
      JSON.stringify(toEnvelope({ type: 'user.signup', id: eventId }, { source: 'test', now: () => new Date(clock.now() - ageMs) }));
    sent.set(eventId, payload);
    return client.publishAsync('bellhop/events/user/signup', payload, { qos: 1 });
  };
  const reportsOf = (eventId: string) => rang.filter((r) => r.eventId === eventId);
  /** Waits until the agent has reported `eventId`, which it handles after everything published before it. */
  const settle = (eventId: string) => waitFor(() => reportsOf(eventId).length > 0, { what: `the report of ${eventId}` });
  return { config, agent, driver, clock, rang, publish, reportsOf, settle };
}

describe('a bell that gets an event again', () => {
  it('neither rings nor reports it twice when the copy comes after more than 1,000 other events', async () => {
    const w = await world({ maxEventAgeSeconds: 60 });
    await w.publish('first-copy');
    await w.settle('first-copy');
    expect(w.driver.pulses()).toHaveLength(1);
    // 1,200 events in between, too old to ring (each is still handled: a report, no strike).
    await Promise.all(Array.from({ length: 1200 }, (_, i) => w.publish(`between-${i}`, 120_000)));
    await w.settle('between-1199');
    await w.publish('first-copy');
    await w.publish('control');
    await w.settle('control');
    expect(w.reportsOf('first-copy')).toHaveLength(1);
    expect(w.reportsOf('between-600')[0]).toMatchObject({ strikes: 0, suppressed: 'too-old' });
    expect(w.driver.pulses()).toHaveLength(2);
  }, 30_000);

  it('still knows it until the event is past the max event age and the margin, and forgets it then', async () => {
    const w = await world({ maxEventAgeSeconds: 60 });
    await w.publish('aging');
    await w.settle('aging');
    const windowMs = 60_000 + DEDUP_MARGIN_MS;

    w.clock.advance(windowMs - 5_000);
    await w.publish('aging');
    await w.publish('control-1');
    await w.settle('control-1');
    expect(w.reportsOf('aging')).toHaveLength(1);

    w.clock.advance(10_000);
    await w.publish('aging');
    // Forgotten: this copy is new to the bell, and too old to ring.
    await waitFor(() => w.reportsOf('aging').length === 2, { what: 'the forgotten id to be handled as new' });
    expect(w.reportsOf('aging')[1]).toMatchObject({ strikes: 0, suppressed: 'too-old' });
    expect(w.driver.pulses()).toHaveLength(2); // 'aging' once, 'control-1'
    expect(w.agent.rememberedIds).toBeLessThanOrEqual(3);
  });

  it('still knows it when a sender retries it with the same id and the server stamps a later time', async () => {
    const w = await world({ maxEventAgeSeconds: 60 });
    const windowMs = 60_000 + DEDUP_MARGIN_MS;
    await w.publish('retried');
    await w.settle('retried');
    w.clock.advance(windowMs - 10_000);
    await w.publish('retried', 0, true);
    await w.publish('control-1');
    await w.settle('control-1');
    // Past the first copy's window, within the retry's: the retry keeps the id.
    w.clock.advance(20_000);
    await w.publish('retried');
    await w.publish('control-2');
    await w.settle('control-2');
    expect(w.reportsOf('retried')).toHaveLength(1);
    expect(w.driver.pulses()).toHaveLength(3); // 'retried' once and the two controls
  });

  it('keeps the id of an event dated in the future until that event could no longer ring', async () => {
    const w = await world({ maxEventAgeSeconds: 60 });
    await w.publish('from-the-future', -3_600_000);
    await w.settle('from-the-future');
    expect(w.driver.pulses()).toHaveLength(1);
    w.clock.advance(3_600_000);
    await w.publish('from-the-future');
    await w.publish('control');
    await w.settle('control');
    expect(w.reportsOf('from-the-future')).toHaveLength(1);
    expect(w.driver.pulses()).toHaveLength(2);
  });

  it('reports an event that came too old once, however often it comes again', async () => {
    const w = await world({ maxEventAgeSeconds: 60 });
    await w.publish('too-old', 120_000);
    await w.settle('too-old');
    w.clock.advance(30_000);
    await w.publish('too-old');
    await w.publish('control');
    await w.settle('control');
    expect(w.reportsOf('too-old')).toEqual([expect.objectContaining({ strikes: 0, suppressed: 'too-old' })]);
  });

  it('holds no more ids than its cap, however many events come within the max event age', async () => {
    const w = await world({}, 100);
    await Promise.all(Array.from({ length: 300 }, (_, i) => w.publish(`many-${i}`, 400_000)));
    await w.settle('many-299');
    await waitFor(() => w.rang.length === 300, { what: 'all 300 reports' });
    expect(w.agent.rememberedIds).toBe(100);
  });
});
