// What people want from the bell, end to end over a real broker with the mock pin:
// patterns, quiet hours, mute, no ghost dings, catch-up after being offline, the
// retained state, and Home Assistant discovery.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { IClientOptions, MqttClient } from 'mqtt';
import { AgentPart, STATE_MIN_INTERVAL_MS } from '../../device/agent.js';
import { MockGpioDriver } from '../../device/gpio/mock.js';
import { packageVersion } from '../../shared/version.js';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../shared/config/schema.js';
import { parseEnvelope, toEnvelope } from '../../shared/envelope.js';
import { createLogger } from '../../shared/logger.js';
import { parseRang, type DeviceState, type RangReport } from '../../shared/messages.js';
import { connectClient, startBroker, testConfig, waitFor, withBroker, silentLogger } from '../helpers/world.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Real timers, but "now" is wherever the test puts it (e.g. 23:00 UTC for quiet hours). */
function shiftedClock(nowIs?: string): Clock {
  const offset = nowIs ? Date.parse(nowIs) - Date.now() : 0;
  return { now: () => Date.now() + offset, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h) };
}

let n = 0;

async function world(device: Record<string, unknown> = {}, raw: Record<string, unknown> = {}, watcher: IClientOptions = {}) {
  const base = testConfig({
    ...raw,
    device: {
      id: `bell-${process.pid}-${++n}`,
      events: ['user.signup', 'subscription.upgraded', 'deal.won', 'bell.test'],
      bell: { pulseMs: 5, gapMs: 5, minGapMs: 5 },
      ...device,
    },
  });
  const broker = await startBroker(base);
  cleanups.push(() => broker.stop());
  const config = withBroker(base, broker.url);
  const id = config.device.id;
  const client = await connectClient(broker.url, watcher);
  cleanups.push(() => client.endAsync());
  const seen = { rang: [] as RangReport[], states: [] as DeviceState[], other: new Map<string, string>() };
  client.on('message', (topic, payload) => {
    if (topic.endsWith(`/${id}/rang`)) {
      const r = parseRang(payload);
      if (r) seen.rang.push(r);
    } else if (topic.endsWith(`/${id}/state`)) seen.states.push(JSON.parse(payload.toString()) as DeviceState);
    else seen.other.set(topic, payload.toString());
  });
  await client.subscribeAsync([`bellhop/devices/${id}/rang`, `bellhop/devices/${id}/state`], { qos: 1 });
  return { config, broker, client, seen, id };
}

async function startAgent(config: Config, clock: Clock = shiftedClock()) {
  const driver = new MockGpioDriver(() => clock.now());
  const agent = new AgentPart({ config, driver, logger: process.env.DEBUG_AGENT ? createLogger('debug', process.stderr) : silentLogger(), clock });
  const subscribed = once(agent, 'subscribed');
  await agent.start();
  cleanups.push(() => agent.stop());
  await subscribed;
  return { agent, driver };
}

function envelope(type: string, clock: Clock, opts: { ageMs?: number; id?: string; data?: Record<string, unknown> } = {}): string {
  const input = { type, ...(opts.id ? { id: opts.id } : {}), ...(opts.data ? { data: opts.data } : {}) };
  return JSON.stringify(toEnvelope(input, { source: 'test', now: () => new Date(clock.now() - (opts.ageMs ?? 0)) }));
}

/** The retained message on a topic, from a fresh subscription; undefined if none comes soon. */
async function readRetained(url: string, topic: string, opts: IClientOptions = {}): Promise<string | undefined> {
  const client = await connectClient(url, opts);
  try {
    const got = new Promise<string>((resolve) => client.on('message', (_t, payload) => resolve(payload.toString())));
    await client.subscribeAsync(topic, { qos: 1 });
    return await Promise.race([got, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 300))]);
  } finally {
    await client.endAsync();
  }
}

const publishEvent = (client: MqttClient, type: string, clock: Clock, opts: Parameters<typeof envelope>[2] = {}) =>
  client.publishAsync(`bellhop/events/${type.replaceAll('.', '/')}`, envelope(type, clock, opts), { qos: 1 });

describe('the bell', () => {
  it('rings each event type with its pattern: one strike for a signup, two for an upgrade, three for a big deal', async () => {
    const w = await world();
    const clock = shiftedClock();
    const { driver } = await startAgent(w.config, clock);
    await publishEvent(w.client, 'user.signup', clock, { id: 'signup' });
    await publishEvent(w.client, 'subscription.upgraded', clock, { id: 'upgrade' });
    await publishEvent(w.client, 'deal.won', clock, { id: 'deal' });
    await waitFor(() => w.seen.rang.length === 3, { what: 'three rang reports' });
    expect(w.seen.rang.map((r) => [r.eventId, r.strikes])).toEqual([
      ['signup', 1],
      ['upgrade', 2],
      ['deal', 3],
    ]);
    expect(driver.pulses()).toHaveLength(6);
  });

  it('stays silent in quiet hours (in the configured time zone), except for the types allowed through', async () => {
    const w = await world({
      quietHours: { timeZone: 'America/New_York', windows: [{ start: '18:00', end: '08:00' }], bypass: ['bell.test'] },
    });
    const clock = shiftedClock('2026-11-25T23:00:00Z'); // 18:00 in New York
    const { driver } = await startAgent(w.config, clock);
    await waitFor(() => w.seen.states.at(-1)?.quiet === true, { what: 'the state to say quiet' });
    await publishEvent(w.client, 'user.signup', clock, { id: 'at-night' });
    await publishEvent(w.client, 'bell.test', clock, { id: 'test-ding' });
    await waitFor(() => w.seen.rang.length === 2, { what: 'two rang reports' });
    expect(w.seen.rang.find((r) => r.eventId === 'at-night')).toMatchObject({ strikes: 0, suppressed: 'quiet' });
    expect(w.seen.rang.find((r) => r.eventId === 'test-ding')).toMatchObject({ strikes: 1 });
    expect(driver.pulses()).toHaveLength(1);
  });

  it('rings as usual outside quiet hours', async () => {
    const w = await world({ quietHours: { timeZone: 'America/New_York', windows: [{ start: '18:00', end: '08:00' }] } });
    const clock = shiftedClock('2026-11-25T22:59:00Z'); // 17:59 in New York
    const { driver } = await startAgent(w.config, clock);
    await publishEvent(w.client, 'user.signup', clock);
    await waitFor(() => driver.pulses().length === 1, { what: 'the signup to ring' });
  });

  it('obeys the retained mute for all bells and for this one, until it is lifted', async () => {
    const w = await world();
    const clock = shiftedClock();
    const until = new Date(clock.now() + 30 * 60_000).toISOString();
    // Set before the bell starts: the retained message reaches it on subscribe.
    await w.client.publishAsync('bellhop/devices/all/mute', JSON.stringify({ until, by: 'slack:U1' }), { qos: 1, retain: true });
    const { driver } = await startAgent(w.config, clock);
    await waitFor(() => w.seen.states.at(-1)?.muted === true, { what: 'the state to say muted' });
    await publishEvent(w.client, 'user.signup', clock, { id: 'muted-1' });
    await waitFor(() => w.seen.rang.some((r) => r.eventId === 'muted-1'), { what: 'the muted report' });
    expect(w.seen.rang[0]).toMatchObject({ strikes: 0, suppressed: 'muted' });

    // Lift the broadcast mute (an empty retained message clears it), then mute this bell alone.
    // Each step waits for the bell to report it: aedes acks a publish before routing it, so a
    // retained message can be overtaken by the next plain one and lost to this subscriber.
    await w.client.publishAsync('bellhop/devices/all/mute', '', { qos: 1, retain: true });
    await waitFor(() => w.seen.states.at(-1)?.muted === false, { what: 'the state to say unmuted' });
    await w.client.publishAsync(`bellhop/devices/${w.id}/mute`, JSON.stringify({ until }), { qos: 1, retain: true });
    await waitFor(() => w.seen.states.at(-1)?.muted === true, { what: 'the state to say muted again' });
    await publishEvent(w.client, 'user.signup', clock, { id: 'muted-2' });
    await waitFor(() => w.seen.rang.some((r) => r.eventId === 'muted-2'), { what: 'the second report' });
    expect(w.seen.rang.find((r) => r.eventId === 'muted-2')).toMatchObject({ suppressed: 'muted' });

    await w.client.publishAsync(`bellhop/devices/${w.id}/mute`, JSON.stringify({ until: null }), { qos: 1, retain: true });
    await waitFor(() => w.seen.states.at(-1)?.muted === false, { what: 'the state to say unmuted' });
    await publishEvent(w.client, 'user.signup', clock, { id: 'after-mute' });
    await waitFor(() => driver.pulses().length === 1, { what: 'the bell to ring again' });
    await w.client.publishAsync(`bellhop/devices/${w.id}/mute`, '', { qos: 1, retain: true });
  });

  it('treats an expired mute as no mute', async () => {
    const w = await world();
    const clock = shiftedClock();
    const { driver } = await startAgent(w.config, clock);
    await w.client.publishAsync(`bellhop/devices/${w.id}/mute`, JSON.stringify({ until: new Date(clock.now() - 1000).toISOString() }), { qos: 1 });
    await publishEvent(w.client, 'user.signup', clock);
    await waitFor(() => driver.pulses().length === 1, { what: 'the signup to ring' });
  });
});

describe('ding commands', () => {
  it('never ring from a retained message (a ghost after every reconnect)', async () => {
    const w = await world();
    const clock = shiftedClock();
    await w.client.publishAsync(`bellhop/devices/${w.id}/ding`, envelope('bell.test', clock, { id: 'retained-ding' }), { qos: 1, retain: true });
    const { driver } = await startAgent(w.config, clock);
    await waitFor(() => w.seen.rang.some((r) => r.eventId === 'retained-ding'), { what: 'the report on the retained ding' });
    expect(w.seen.rang[0]).toMatchObject({ strikes: 0, suppressed: 'expired' });
    expect(driver.pulses()).toHaveLength(0);
    await w.client.publishAsync(`bellhop/devices/${w.id}/ding`, '', { qos: 1, retain: true });
  });

  it('do not ring when older than their time-to-live on arrival', async () => {
    const w = await world({ dingTtlSeconds: 10 });
    const clock = shiftedClock();
    const { driver } = await startAgent(w.config, clock);
    await w.client.publishAsync(`bellhop/devices/${w.id}/ding`, envelope('bell.test', clock, { id: 'stale', ageMs: 11_000 }), { qos: 1 });
    await w.client.publishAsync(`bellhop/devices/${w.id}/ding`, envelope('bell.test', clock, { id: 'fresh', ageMs: 2_000 }), { qos: 1 });
    await waitFor(() => w.seen.rang.length === 2, { what: 'two reports' });
    expect(w.seen.rang.find((r) => r.eventId === 'stale')).toMatchObject({ strikes: 0, suppressed: 'expired' });
    expect(w.seen.rang.find((r) => r.eventId === 'fresh')).toMatchObject({ strikes: 1 });
    expect(driver.pulses()).toHaveLength(1);
  });

  it('ring with the device\'s own pattern, whatever the message asks for', async () => {
    const w = await world();
    const clock = shiftedClock();
    const { driver } = await startAgent(w.config, clock);
    await w.client.publishAsync(
      `bellhop/devices/${w.id}/ding`,
      envelope('bell.test', clock, { id: 'greedy', data: { pulseMs: 5000, strikes: 9, maxPulseMs: 5000 } }),
      { qos: 1 },
    );
    await waitFor(() => w.seen.rang.length === 1, { what: 'the report' });
    expect(w.seen.rang[0]).toMatchObject({ eventId: 'greedy', strikes: 1 });
    expect(driver.pulses()).toHaveLength(1);
  });
});

describe('after the bell was offline', () => {
  async function backlog(policy: 'once' | 'skip', ages: number[]) {
    const w = await world({ catchUp: { policy, maxAgeSeconds: 30 } });
    const clock = shiftedClock();
    const first = await startAgent(w.config, clock);
    await first.agent.stop();
    for (const [i, ageMs] of ages.entries()) await publishEvent(w.client, 'deal.won', clock, { id: `away-${i}`, ageMs });
    const { driver } = await startAgent(w.config, clock);
    await waitFor(() => w.seen.rang.length === ages.length, { what: `${ages.length} reports` });
    return { reports: w.seen.rang, driver };
  }

  it('rings once for all the events that waited (policy once), never a burst', async () => {
    const { reports, driver } = await backlog('once', [240_000, 180_000, 120_000, 90_000, 60_000, 45_000]);
    expect(driver.pulses()).toHaveLength(1);
    expect(reports.filter((r) => r.strikes === 1)).toHaveLength(1);
    expect(reports.filter((r) => r.suppressed === 'caught-up')).toHaveLength(5);
  });

  it('rings none of them with policy skip', async () => {
    const { reports, driver } = await backlog('skip', [120_000, 60_000, 45_000]);
    expect(driver.pulses()).toHaveLength(0);
    expect(reports.every((r) => r.suppressed === 'too-old')).toBe(true);
  });

  it('never rings for events older than bell.maxEventAgeSeconds, and those open no catch-up', async () => {
    const { reports, driver } = await backlog('once', [3_600_000, 600_000]);
    expect(driver.pulses()).toHaveLength(0);
    expect(reports.every((r) => r.suppressed === 'too-old')).toBe(true);
  });
});

describe('the retained state', () => {
  it('is published when the bell subscribes, after each ring, and says what the bell is doing', async () => {
    const w = await world({ heartbeatSeconds: 60 });
    const clock = shiftedClock();
    await startAgent(w.config, clock);
    await waitFor(() => w.seen.states.length >= 1, { what: 'the first state' });
    expect(w.seen.states[0]).toMatchObject({ deviceId: w.id, version: packageVersion(), muted: false, quiet: false });
    expect(w.seen.states[0]!.lastRing).toBeUndefined();
    await publishEvent(w.client, 'user.signup', clock, { id: 'to-remember' });
    const state = await waitFor(() => w.seen.states.find((s) => s.lastRing), { what: 'a state with the last ring' });
    expect(state.lastRing).toMatchObject({ eventId: 'to-remember' });

    // Retained: whoever looks later (the status page, Home Assistant) gets it at once.
    const late = await connectClient(w.broker.url);
    cleanups.push(() => late.endAsync());
    const got = new Promise<DeviceState>((resolve) => late.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as DeviceState)));
    await late.subscribeAsync(`bellhop/devices/${w.id}/state`, { qos: 1 });
    expect((await got).lastRing).toMatchObject({ eventId: 'to-remember' });
  });

  it('after a run of strikes, is published at most once a second, the last one naming the latest ring', async () => {
    const w = await world({ heartbeatSeconds: 60, bell: { pulseMs: 1, gapMs: 0, minGapMs: 0, maxStrikesPerMinute: 600 } });
    const clock = shiftedClock();
    await startAgent(w.config, clock);
    for (let i = 0; i < 6; i++) await publishEvent(w.client, 'user.signup', clock, { id: `run-${i}` });
    await waitFor(() => w.seen.rang.filter((r) => r.strikes === 1).length === 6 && w.seen.states.at(-1)?.lastRing?.eventId === 'run-5', { what: 'six strikes, then a state naming the last' });
    // The first strike's state at once, then one for the rest of the run: not six.
    const times = w.seen.states.filter((s) => s.lastRing).map((s) => Date.parse(s.at));
    expect(times.length).toBeLessThanOrEqual(2);
    expect(times.length < 2 || times[1]! - times[0]! >= STATE_MIN_INTERVAL_MS - 5).toBe(true);
  });

  it('is published again every heartbeatSeconds, with the uptime', async () => {
    // A clock whose timers fire only when the test says so (the MQTT client keeps real ones).
    let now = Date.parse('2026-11-25T10:00:00Z');
    const timers: Array<{ at: number; fn: () => void; handle: NodeJS.Timeout }> = [];
    const clock: Clock = {
      now: () => now,
      setTimeout: (fn, ms) => {
        const handle = {} as NodeJS.Timeout;
        timers.push({ at: now + ms, fn, handle });
        return handle;
      },
      clearTimeout: (h) => {
        const i = timers.findIndex((t) => t.handle === h);
        if (i >= 0) timers.splice(i, 1);
      },
    };
    const advance = (ms: number) => {
      now += ms;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    };
    const w = await world({ heartbeatSeconds: 30 });
    await startAgent(w.config, clock);
    await waitFor(() => w.seen.states.length === 1, { what: 'the first state' });
    advance(29_000);
    advance(1_000);
    await waitFor(() => w.seen.states.length === 2, { what: 'the heartbeat' });
    expect(w.seen.states[1]).toMatchObject({ uptimeSeconds: 30, at: '2026-11-25T10:00:30.000Z' });
    advance(30_000);
    await waitFor(() => w.seen.states.length === 3, { what: 'the next heartbeat' });
    expect(w.seen.states[2]!.uptimeSeconds).toBe(60);
  });
});

describe('Home Assistant discovery', () => {
  const users = [
    { username: 'office-bell', password: 'device-password', role: 'device' },
    { username: 'homeassistant', password: 'ha-password-1', role: 'admin' },
  ];

  it('is off by default', async () => {
    const w = await world({}, {});
    await w.client.subscribeAsync('homeassistant/#', { qos: 1 });
    await startAgent(w.config);
    await waitFor(() => w.seen.states.length === 1, { what: 'the first state' });
    expect([...w.seen.other.keys()].filter((t) => t.startsWith('homeassistant/'))).toEqual([]);
  });

  it('shows the bell as a device with a Ring button that rings it and a Last ring sensor, through the broker ACL', async () => {
    const ha = { username: 'homeassistant', password: 'ha-password-1' };
    const w = await world(
      { id: 'office-bell', homeAssistant: { enabled: true, name: 'Front desk' }, mqtt: { username: 'office-bell', password: 'device-password' } },
      { broker: { users } },
      ha,
    );
    const clock = shiftedClock();
    const { driver } = await startAgent(w.config, clock);
    // Read as Home Assistant does when it (re)starts: the retained configs on subscribe.
    const retained = (topic: string) => waitFor(() => readRetained(w.broker.url, topic, ha), { what: `the retained ${topic}` });
    const button = JSON.parse(await retained('homeassistant/button/bellhop_office-bell/ring/config')) as Record<string, string> & {
      device: { name: string };
    };
    const sensor = JSON.parse(await retained('homeassistant/sensor/bellhop_office-bell/last_ring/config')) as Record<string, string>;
    expect(button).toMatchObject({ name: 'Ring', command_topic: 'bellhop/devices/office-bell/ding', availability_topic: 'bellhop/devices/office-bell/status' });
    expect(button.device).toMatchObject({ name: 'Front desk', manufacturer: 'bellhop', identifiers: ['bellhop_office-bell'] });
    expect(sensor).toMatchObject({ device_class: 'timestamp', state_topic: 'bellhop/devices/office-bell/state' });

    // What Home Assistant sends when the button is pressed: its template, rendered.
    const pressed = button.command_template!
      .replace('{{ now().timestamp() }}', String(clock.now() / 1000))
      .replace('{{ utcnow().isoformat() }}', new Date(clock.now()).toISOString().replace('Z', '123+00:00'));
    expect(parseEnvelope(pressed)).toMatchObject({ type: 'bell.test' });
    await w.client.publishAsync(button.command_topic!, pressed, { qos: 1 });
    await waitFor(() => driver.pulses().length === 1, { what: 'the button to ring the bell' });
    const state = await waitFor(() => w.seen.states.find((s) => s.lastRing), { what: 'the state the sensor reads' });
    expect(Number.isNaN(Date.parse(state.lastRing!.at))).toBe(false);
  });
});
