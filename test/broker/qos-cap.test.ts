// A subscriber gets a message at most at the QoS it subscribed with (MQTT-3.8.4-6), also
// through a wildcard. aedes 1.2 capped only exact-topic subscriptions, so a QoS 1 sink on
// bellhop/events/# got QoS 2: mqtt.js answers PUBREC and keeps the message only in memory
// until PUBREL, and a sink killed in between lost it. Runs on every broker.
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { ServerPart } from '../../server/server.js';
import { connectClient, postEvents, silentLogger, startBroker, testConfig, waitFor, withBroker } from '../helpers/world.js';

const onRabbitmq = process.env.BELLHOP_TEST_BROKER === 'rabbitmq';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function world() {
  const config = testConfig();
  const broker = await startBroker(config);
  cleanups.push(() => broker.stop());
  const publisher = await connectClient(broker.url);
  cleanups.push(() => publisher.endAsync());
  return { broker, publisher };
}

function collect(client: MqttClient): IPublishPacket[] {
  const got: IPublishPacket[] = [];
  client.on('message', (_topic, _payload, packet) => got.push(packet));
  return got;
}

describe('delivery QoS', () => {
  it('is capped at a wildcard subscription QoS for a connected subscriber', async () => {
    const { broker, publisher } = await world();
    const sink = await connectClient(broker.url, { clientId: 'qos-cap-online', clean: false });
    cleanups.push(() => sink.endAsync());
    const got = collect(sink);
    await sink.subscribeAsync('bellhop/events/#', { qos: 1 });
    await sink.subscribeAsync('bellhop/other/+', { qos: 0 });
    await publisher.publishAsync('bellhop/events/user/signup', 'two', { qos: 2 });
    await publisher.publishAsync('bellhop/other/x', 'one', { qos: 1 });
    await publisher.publishAsync('bellhop/events/user/signup', 'zero', { qos: 0 });
    await waitFor(() => got.length === 3, { what: 'three messages' });
    expect(got.map((p) => [p.payload.toString(), p.qos])).toEqual([
      ['two', 1],
      ['one', 0],
      ['zero', 0],
    ]);
  });

  it('is capped for messages queued while a persistent subscriber was away', async () => {
    const { broker, publisher } = await world();
    const first = await connectClient(broker.url, { clientId: 'qos-cap-offline', clean: false });
    await first.subscribeAsync('bellhop/events/#', { qos: 1 });
    await first.endAsync();
    await publisher.publishAsync('bellhop/events/user/signup', 'queued', { qos: 2 });
    // Queued messages can come right behind the CONNACK: listen before connecting.
    const again = mqtt.connect(broker.url, { clientId: 'qos-cap-offline', clean: false, protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(() => again.endAsync());
    const got = collect(again);
    await waitFor(() => got.length === 1, { what: 'the queued message' });
    expect([got[0]!.payload.toString(), got[0]!.qos]).toEqual(['queued', 1]);
  });

  // RabbitMQ downgrades QoS 2 to 1: the server refuses publishQos 2 there (below).
  it.skipIf(onRabbitmq)('keeps QoS 2 for a subscriber that asked for it', async () => {
    const { broker, publisher } = await world();
    const sub = await connectClient(broker.url, { clientId: 'qos-two', clean: false });
    cleanups.push(() => sub.endAsync());
    const got = collect(sub);
    await sub.subscribeAsync('bellhop/events/#', { qos: 2 });
    await publisher.publishAsync('bellhop/events/user/signup', 'two', { qos: 2 });
    await waitFor(() => got.length === 1, { what: 'the message' });
    expect(got[0]!.qos).toBe(2);
  });
});

describe('server.publishQos 2', () => {
  it(onRabbitmq ? 'stops the server naming the setting, as the broker downgrades QoS 2' : 'starts, as the broker keeps QoS 2', async () => {
    const base = testConfig({ server: { publishQos: 2 } });
    const broker = await startBroker(base);
    cleanups.push(() => broker.stop());
    const server = new ServerPart({ config: withBroker(base, broker.url), tokens: base.server.tokens, logger: silentLogger(), connectWaitMs: 3000 });
    cleanups.push(() => server.stop());
    if (onRabbitmq) {
      await expect(server.start()).rejects.toThrow(/server\.publishQos is 2, but the broker grants at most QoS 1.*set server\.publishQos to 1/);
    } else {
      await server.start();
      expect((await postEvents(server.url, { type: 'user.signup' })).status).toBe(202);
    }
  });
});
