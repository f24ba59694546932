import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { BrokerPart } from '../../broker/broker.js';
import type { ServerPart } from '../../server/server.js';
import type { AgentPart } from '../../device/agent.js';
import { parseRang, type RangReport } from '../../shared/messages.js';
import { toEnvelope } from '../../shared/envelope.js';
import { MockGpioDriver } from '../../device/gpio/mock.js';
import { connectClient, postEvents, startAgent, startBroker, startServer, testConfig, waitFor, withBroker } from '../helpers/world.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function world(raw: Record<string, unknown> = {}) {
  const base = testConfig({ device: { bell: { pulseMs: 5, gapMs: 5, minGapMs: 5 } }, ...raw });
  const broker = await startBroker(base);
  const config = withBroker(base, broker.url);
  const server = await startServer(config);
  cleanups.push(() => broker.stop(), () => server.stop());
  return { base, config, broker, server };
}

function watch(client: MqttClient): { rang: RangReport[]; status: Map<string, string> } {
  const rang: RangReport[] = [];
  const status = new Map<string, string>();
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/rang')) {
      const r = parseRang(payload);
      if (r) rang.push(r);
    }
    if (topic.endsWith('/status')) status.set(topic, payload.toString());
  });
  return { rang, status };
}

describe('the bell agent', () => {
  it('gets the events published while it was stopped when it comes back (persistent session)', async () => {
    const { config, server } = await world();
    let { agent, driver } = await startAgent(config);
    await agent.stop();
    for (let i = 0; i < 3; i++) expect((await postEvents(server.url, { type: 'user.signup', id: `away-${i}` })).status).toBe(202);
    expect(driver.pulses()).toHaveLength(0);
    ({ agent, driver } = await startAgent(config, new MockGpioDriver()));
    cleanups.push(() => agent.stop());
    await waitFor(() => driver.pulses().length === 3, { what: 'three queued signups to ring' });
  });

  // The RabbitMQ test node is shared by a worker's worlds and not restarted per test; the
  // cluster soak (test/soak/rabbitmq-cluster.soak.ts) kills and restarts real nodes.
  it.skipIf(process.env.BELLHOP_TEST_BROKER === 'rabbitmq')('keeps events queued for an offline agent across a broker restart (on-disk persistence)', async () => {
    const base = testConfig({ device: { bell: { pulseMs: 5, gapMs: 5, minGapMs: 5 } } });
    let broker: BrokerPart = await startBroker(base);
    const port = broker.port;
    const config = withBroker(base, broker.url);
    let server: ServerPart = await startServer(config);
    const first = await startAgent(config);
    await first.agent.stop();
    expect((await postEvents(server.url, { type: 'user.signup', id: 'kept-over-restart' })).status).toBe(202);
    await server.stop();
    await broker.stop();

    broker = await startBroker({ ...base, broker: { ...base.broker, port } });
    server = await startServer(config);
    const second: { agent: AgentPart; driver: MockGpioDriver } = await startAgent(config);
    cleanups.push(() => broker.stop(), () => server.stop(), () => second.agent.stop());
    await waitFor(() => second.driver.pulses().length === 1, { what: 'the event queued before the restart' });
  });

  it('reports each ring on its rang topic with the event id', async () => {
    const { config, server, broker } = await world({ device: { bell: { strikes: { 'bell.test': 2 } } } });
    const watcher = await connectClient(broker.url);
    cleanups.push(() => watcher.endAsync());
    const seen = watch(watcher);
    await watcher.subscribeAsync('bellhop/devices/+/rang', { qos: 1 });
    const { agent } = await startAgent(config);
    cleanups.push(() => agent.stop());
    await postEvents(server.url, { type: 'bell.test', id: 'two-strikes' });
    const report = await waitFor(() => seen.rang.find((r) => r.eventId === 'two-strikes'), { what: 'the rang report' });
    expect(report).toMatchObject({ deviceId: 'office-bell', strikes: 2, type: 'bell.test' });
    expect(report.suppressed).toBeUndefined();
  });

  it('rings once for a redelivered event id', async () => {
    const { config, broker } = await world();
    const { agent, driver } = await startAgent(config);
    cleanups.push(() => agent.stop());
    const publisher = await connectClient(broker.url);
    cleanups.push(() => publisher.endAsync());
    const envelope = JSON.stringify(toEnvelope({ type: 'user.signup', id: 'same-id' }, { source: 'test' }));
    await publisher.publishAsync('bellhop/events/user/signup', envelope, { qos: 1 });
    await publisher.publishAsync('bellhop/events/user/signup', envelope, { qos: 1 });
    await publisher.publishAsync('bellhop/events/bell/test', JSON.stringify(toEnvelope({ type: 'bell.test' }, { source: 'test' })), { qos: 1 });
    await waitFor(() => driver.pulses().length === 2, { what: 'the signup and the control ding' });
    expect(driver.pulses()).toHaveLength(2);
  });

  it('rings for a ding command addressed to it or to all bells, but not to another bell', async () => {
    const { config, broker } = await world();
    const { agent, driver } = await startAgent(config);
    cleanups.push(() => agent.stop());
    const publisher = await connectClient(broker.url);
    cleanups.push(() => publisher.endAsync());
    const ding = () => JSON.stringify(toEnvelope({ type: 'bell.test' }, { source: 'test' }));
    await publisher.publishAsync('bellhop/devices/other-bell/ding', ding(), { qos: 1 });
    await publisher.publishAsync('bellhop/devices/office-bell/ding', ding(), { qos: 1 });
    await publisher.publishAsync('bellhop/devices/all/ding', ding(), { qos: 1 });
    await waitFor(() => driver.pulses().length === 2, { what: 'two dings' });
    expect(driver.pulses()).toHaveLength(2);
  });

  it('ignores malformed messages and keeps working', async () => {
    const { config, broker, server } = await world();
    const { agent, driver } = await startAgent(config);
    cleanups.push(() => agent.stop());
    const publisher = await connectClient(broker.url);
    cleanups.push(() => publisher.endAsync());
    await publisher.publishAsync('bellhop/events/user/signup', 'not json', { qos: 1 });
    await publisher.publishAsync('bellhop/events/user/signup', JSON.stringify({ type: 'user.signup' }), { qos: 1 });
    await postEvents(server.url, { type: 'user.signup' });
    await waitFor(() => driver.pulses().length === 1, { what: 'the valid signup' });
    expect(driver.pulses()).toHaveLength(1);
  });

  it('keeps a retained online status, and offline after a clean stop', async () => {
    const { config, broker } = await world();
    const { agent } = await startAgent(config);
    const readStatus = async () => {
      const c = await connectClient(broker.url);
      const got = watch(c);
      await c.subscribeAsync('bellhop/devices/office-bell/status', { qos: 1 });
      const v = await waitFor(() => got.status.get('bellhop/devices/office-bell/status'), { what: 'retained status' });
      await c.endAsync();
      return v;
    };
    expect(await readStatus()).toBe('online');
    await agent.stop();
    expect(await readStatus()).toBe('offline');
  });
});
