import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerPart } from '../../broker/broker.js';
import type { ServerPart } from '../../server/server.js';
import type { AgentPart } from '../../device/agent.js';
import type { MockGpioDriver } from '../../device/gpio/mock.js';
import type { Config } from '../../shared/config/schema.js';
import { parseRang, type RangReport } from '../../shared/messages.js';
import { connectClient, postEvents, startAgent, startBroker, startServer, testConfig, waitFor, withBroker } from '../helpers/world.js';

// Several servers behind one broker, several bells each with its own id and login.
const users = [
  { username: 'server', password: 'server-password', role: 'server' },
  { username: 'front-desk', password: 'front-desk-password', role: 'device' },
  { username: 'sales-floor', password: 'sales-floor-password', role: 'device' },
  { username: 'ops', password: 'ops-password-x', role: 'admin' },
];

describe('scale out: two servers and two bells on one broker, each with its own credentials', () => {
  let broker: BrokerPart;
  const servers: ServerPart[] = [];
  const bells: Array<{ agent: AgentPart; driver: MockGpioDriver }> = [];
  const rang: RangReport[] = [];

  beforeAll(async () => {
    const base = testConfig({ broker: { users }, device: { bell: { pulseMs: 5, gapMs: 5, minGapMs: 5 } } });
    broker = await startBroker(base);
    const config = withBroker(base, broker.url);
    const asServer: Config = { ...config, server: { ...config.server, mqtt: { username: 'server', password: 'server-password' } } };
    // Each server of a scaled-out set has its own persistent session.
    const named = (id: string): Config => ({ ...asServer, server: { ...asServer.server, mqttClientId: id } });
    servers.push(await startServer(named('bellhop-server-a')), await startServer(named('bellhop-server-b')));
    const bell = (id: string, events: string[]): Config => ({
      ...config,
      device: { ...config.device, id, events, mqtt: { username: id, password: `${id}-password` } },
    });
    bells.push(await startAgent(bell('front-desk', ['user.signup', 'bell.test'])));
    bells.push(await startAgent(bell('sales-floor', ['payment.succeeded', 'bell.test'])));
    const watcher = await connectClient(broker.url, { username: 'ops', password: 'ops-password-x', clientId: 'ops-watch' });
    watcher.on('message', (_t, payload) => {
      const r = parseRang(payload);
      if (r) rang.push(r);
    });
    await watcher.subscribeAsync('bellhop/devices/+/rang', { qos: 1 });
    afterAll(() => watcher.endAsync());
  });
  afterAll(async () => {
    for (const b of bells) await b.agent.stop();
    for (const s of servers) await s.stop();
    await broker.stop();
  });

  it('delivers events accepted by either server to the bells configured for them', async () => {
    const [a, b] = servers;
    const accepted = await Promise.all([
      postEvents(a!.url, { type: 'user.signup', id: 'via-a-signup' }),
      postEvents(b!.url, { type: 'user.signup', id: 'via-b-signup' }),
      postEvents(b!.url, { type: 'payment.succeeded', id: 'via-b-payment' }),
      postEvents(a!.url, { type: 'bell.test', id: 'via-a-test' }),
    ]);
    expect(accepted.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    await waitFor(() => rang.length >= 5, { what: 'five rang reports' });
    const by = (device: string) => rang.filter((r) => r.deviceId === device).map((r) => r.eventId).sort();
    expect(by('front-desk')).toEqual(['via-a-signup', 'via-a-test', 'via-b-signup']);
    expect(by('sales-floor')).toEqual(['via-a-test', 'via-b-payment']);
    expect(bells[0]!.driver.pulses()).toHaveLength(3);
    expect(bells[1]!.driver.pulses()).toHaveLength(2);
  });
});
