import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { BrokerPart } from '../../broker/broker.js';
import { connectClient, silentLogger, testConfig, waitFor } from '../helpers/world.js';

// aedes drops, per subscriber, any message whose broker counter is not above the last one it
// delivered. A retained publish takes a slower path (it is stored first), so a plain publish
// sent right after it can overtake it, and the retained one was then silently lost.
describe('the embedded broker', () => {
  let broker: BrokerPart;
  let subscriber: MqttClient;
  let publisher: MqttClient;
  const got = new Set<string>();

  beforeAll(async () => {
    const config = testConfig();
    broker = new BrokerPart({ config: config.broker, topicPrefix: 'bellhop', dataDir: config.dataDir, logger: silentLogger() });
    await broker.start();
    subscriber = await connectClient(broker.url, { clientId: 'watcher', clean: false });
    subscriber.on('message', (topic, payload) => got.add(`${topic} ${payload.toString()}`));
    await subscriber.subscribeAsync('bellhop/#', { qos: 1 });
    publisher = await connectClient(broker.url);
  });
  afterAll(async () => {
    await subscriber.endAsync();
    await publisher.endAsync();
    await broker.stop();
  });

  it('delivers a retained message even when a plain one published right after it overtakes it', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      const retained = `bellhop/devices/bell-${i}/mute`;
      const plain = `bellhop/events/user/signup`;
      sent.push(`${retained} m${i}`, `${plain} e${i}`);
      publisher.publish(retained, `m${i}`, { qos: 1, retain: true });
      publisher.publish(plain, `e${i}`, { qos: 1 });
    }
    await waitFor(() => sent.every((s) => got.has(s)), { what: 'every message', timeoutMs: 5000 }).catch(() => undefined);
    expect(sent.filter((s) => !got.has(s))).toEqual([]);
  });
});
