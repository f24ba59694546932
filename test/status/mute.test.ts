import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerPart } from '../../broker/broker.js';
import type { ServerPart } from '../../server/server.js';
import type { AgentPart } from '../../device/agent.js';
import type { MockGpioDriver } from '../../device/gpio/mock.js';
import type { DevicesReply, MuteReply, RingReply, Trace } from '../../server/status/schemas.js';
import { parseMute } from '../../shared/messages.js';
import { muteCommand } from '../../shared/mute.js';
import { Topics } from '../../shared/topics.js';
import { TEST_TOKEN, connectClient, startAgent, startBroker, startServer, testConfig, waitFor, withBroker } from '../helpers/world.js';

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

async function call<T = Record<string, unknown>>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Promise<{ status: number; body: T }> {
  const init: RequestInit = { method, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: (await res.json()) as T };
}

const devices = async (base: string) => (await call<DevicesReply>(base, 'GET', '/v1/devices')).body;

/** The retained mute the broker holds for `id`, as a bell coming online would read it. */
async function retainedMute(url: string, id: string): Promise<string> {
  const client = await connectClient(url);
  try {
    const got = new Promise<string>((resolve) => client.on('message', (_topic, payload) => resolve(payload.toString())));
    await client.subscribeAsync(`bellhop/devices/${id}/mute`, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

describe('muting bells from the status endpoints (broker, server, bell agent on the mock GPIO)', () => {
  let broker: BrokerPart;
  let server: ServerPart;
  let agent: AgentPart;
  let driver: MockGpioDriver;
  let front: AgentPart;

  beforeAll(async () => {
    const base = testConfig();
    broker = await startBroker(base);
    const config = withBroker(base, broker.url);
    server = await startServer(config);
    ({ agent, driver } = await startAgent(config));
    ({ agent: front } = await startAgent({ ...config, device: { ...config.device, id: 'front-desk' } }));
    await waitFor(async () => (await devices(server.url)).devices.length === 2, { what: 'both bells to show up' });
  });
  afterAll(async () => {
    await front.stop();
    await agent.stop();
    await server.stop();
    await broker.stop();
  });

  it('mutes one bell with the retained payload Slack writes, answers a ring with "muted", and the bell stays silent', async () => {
    const before = Date.now();
    const res = await call<MuteReply>(server.url, 'POST', '/v1/devices/office-bell/mute', { minutes: 30 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ deviceId: 'office-bell', mutedBy: 'status/test', updated: ['office-bell'] });
    const until = Date.parse(res.body.mutedUntil!);
    expect(until).toBeGreaterThanOrEqual(before + 30 * 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 30 * 60_000);

    const payload = await retainedMute(broker.url, 'office-bell');
    expect(payload).toBe(muteCommand(new Topics('bellhop'), 'office-bell', new Date(until), 'status/test').payload);
    expect(parseMute(payload)).toEqual({ until: res.body.mutedUntil, by: 'status/test' });
    // Right away, not only once the server's own copy came back from the broker.
    expect((await devices(server.url)).devices.find((d) => d.id === 'office-bell')).toMatchObject({ muted: true, mutedUntil: res.body.mutedUntil, mutedBy: 'status/test' });

    const pulses = driver.pulses().length;
    const ring = await call<RingReply>(server.url, 'POST', '/v1/devices/office-bell/ring');
    expect(ring).toMatchObject({ status: 202, body: { deviceId: 'office-bell', muted: true, mutedUntil: res.body.mutedUntil, mutedBy: 'status/test', quiet: false } });
    const step = await waitFor(async () => (await call<Trace>(server.url, 'GET', `/v1/events/${ring.body.eventId}/trace`)).body.steps?.find((s) => s.stage === 'rang'));
    expect(step).toMatchObject({ text: 'office-bell did not ring: muted', suppressed: 'muted', strikes: 0, outcome: 'warn' });
    expect(driver.pulses()).toHaveLength(pulses);
  });

  it('unmutes one bell, after which a ring rings and says so', async () => {
    const res = await call<MuteReply>(server.url, 'DELETE', '/v1/devices/office-bell/mute');
    expect(res).toMatchObject({ status: 200, body: { deviceId: 'office-bell', mutedUntil: null, mutedBy: null, updated: ['office-bell'] } });
    expect(parseMute(await retainedMute(broker.url, 'office-bell'))).toEqual({ until: null, by: 'status/test' });
    await waitFor(async () => (await devices(server.url)).devices.find((d) => d.id === 'office-bell' && !d.muted), { what: 'office-bell unmuted, heartbeat too' });
    const pulses = driver.pulses().length;
    const ring = await call<RingReply>(server.url, 'POST', '/v1/devices/office-bell/ring');
    expect(ring.body).toMatchObject({ muted: false, mutedUntil: null });
    await waitFor(() => driver.pulses().length > pulses, { what: 'a pulse once unmuted' });
  });

  it('mutes every bell with id "all"; unmuting one then says all bells still keep it silent; unmuting all clears each bell\'s own mute too', async () => {
    const own = await call<MuteReply>(server.url, 'POST', '/v1/devices/front-desk/mute', { minutes: 5 });
    const all = await call<MuteReply>(server.url, 'POST', '/v1/devices/all/mute', { minutes: 60 });
    expect(all).toMatchObject({ status: 200, body: { deviceId: 'all', mutedBy: 'status/test', updated: ['all'] } });
    const listed = await devices(server.url);
    expect(listed).toMatchObject({ allMutedUntil: all.body.mutedUntil, allMutedBy: 'status/test' });
    expect(listed.devices.every((d) => d.muted && d.mutedUntil === all.body.mutedUntil)).toBe(true);

    // front-desk's own 5 minutes end before the hour of all bells: the answer says the later one.
    expect(Date.parse(own.body.mutedUntil!)).toBeLessThan(Date.parse(all.body.mutedUntil!));
    const again = await call<MuteReply>(server.url, 'POST', '/v1/devices/front-desk/mute', { minutes: 5 });
    expect(again.body.mutedUntil).toBe(all.body.mutedUntil);
    const one = await call<MuteReply>(server.url, 'DELETE', '/v1/devices/office-bell/mute');
    expect(one.body).toMatchObject({ mutedUntil: all.body.mutedUntil, mutedBy: 'status/test', updated: ['office-bell'] });
    expect((await call<RingReply>(server.url, 'POST', '/v1/devices/office-bell/ring')).body).toMatchObject({ muted: true, mutedUntil: all.body.mutedUntil });

    const cleared = await call<MuteReply>(server.url, 'DELETE', '/v1/devices/all/mute');
    expect(cleared).toMatchObject({ status: 200, body: { deviceId: 'all', mutedUntil: null } });
    expect(cleared.body.updated).toEqual(['all', 'front-desk']);
    expect(parseMute(await retainedMute(broker.url, 'all'))).toEqual({ until: null, by: 'status/test' });
    const after = await devices(server.url);
    expect(after.allMutedUntil).toBeNull();
    expect(after.devices.map((d) => d.mutedUntil)).toEqual([null, null]);
  });

  it('refuses a duration outside 1..1440 minutes, an unknown or malformed bell, and a request without the token', async () => {
    for (const body of [{ minutes: 0 }, { minutes: 1441 }, { minutes: 1.5 }, { minutes: '60' }, {}, { minutes: 5, bell: 'x' }]) {
      const res = await call(server.url, 'POST', '/v1/devices/office-bell/mute', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toMatchObject({ error: 'bad_request', message: expect.stringMatching(/^send \{"minutes": N\}, N a whole number from 1 to 1440 \(body/) });
    }
    expect((await call(server.url, 'POST', '/v1/devices/office-bell/mute')).body).toMatchObject({ error: 'bad_request' });
    expect((await call(server.url, 'POST', '/v1/devices/office-bell/mute', 'not json')).body).toMatchObject({ error: 'bad_json' });
    for (const method of ['POST', 'DELETE']) {
      const body = method === 'POST' ? { minutes: 5 } : undefined;
      expect((await call(server.url, method, '/v1/devices/nobody/mute', body)).body, method).toMatchObject({ error: 'unknown_device', message: 'no bell "nobody" has reported to this server' });
      expect((await call(server.url, method, '/v1/devices/Not%20A%20Bell/mute', body)).status, method).toBe(400);
      expect((await call(server.url, method, '/v1/devices/office-bell/mute', body, {})).status, method).toBe(401);
    }
    // None of the refusals wrote a mute.
    expect((await devices(server.url)).devices.map((d) => d.mutedUntil)).toEqual([null, null]);
  });
});

describe('muting behind the broker ACL', () => {
  it('lets the server role write devices/+/mute, and the bell obeys it', async () => {
    const users = [
      { username: 'srv', password: 'server-secret-1', role: 'server' },
      { username: 'office-bell', password: 'device-secret-1', role: 'device' },
    ];
    const base = testConfig({
      broker: { users },
      server: { mqtt: { username: 'srv', password: 'server-secret-1' } },
      device: { mqtt: { username: 'office-bell', password: 'device-secret-1' } },
    });
    const broker = await startBroker(base);
    const config = withBroker(base, broker.url);
    const server = await startServer(config);
    const { agent, driver } = await startAgent(config);
    try {
      await waitFor(async () => (await devices(server.url)).devices.length > 0, { what: 'the bell to show up' });
      expect((await call(server.url, 'POST', '/v1/devices/all/mute', { minutes: 10 })).status).toBe(200);
      // The agent's heartbeat says muted only once it took the broker's message in.
      await waitFor(async () => (await devices(server.url)).devices[0]?.muted && agent.state().muted, { what: 'the bell to say it is muted' });
      const ring = await call<RingReply>(server.url, 'POST', '/v1/devices/office-bell/ring');
      await waitFor(async () => (await call<Trace>(server.url, 'GET', `/v1/events/${ring.body.eventId}/trace`)).body.steps?.some((s) => s.suppressed === 'muted'));
      expect(driver.pulses()).toHaveLength(0);
      // A denied publish would have cost the server its broker connection (the embedded broker drops the client).
      expect((await devices(server.url)).brokerConnected).toBe(true);
    } finally {
      await agent.stop();
      await server.stop();
      await broker.stop();
    }
  });
});
