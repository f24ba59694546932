// Two durable sessions on one broker process: one connected and acknowledging, one
// offline. Across a clean stop, and across a SIGKILL once the broker has had time to write
// down who owes what, the offline one gets everything and the connected one nothing twice.
// (A crash within the first second of a message may repeat it to everyone; subscribers
// dedupe by event id: the last case shows it is repeated, not lost.) Runs on both brokers.
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { testConfig, waitFor } from '../helpers/world.js';
import { brokerProcess, type BrokerProcess } from './broker-process.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

class Session {
  readonly got: string[] = [];
  #client: MqttClient | undefined;
  constructor(
    private readonly url: string,
    readonly id: string,
  ) {}

  async connect(): Promise<void> {
    const client = mqtt.connect(this.url, { clientId: this.id, clean: false, protocolVersion: 4, reconnectPeriod: 0 });
    client.on('message', (_topic, payload) => this.got.push(payload.toString()));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    this.#client = client;
    cleanups.push(() => this.disconnect());
  }

  async subscribe(): Promise<void> {
    await this.#client!.subscribeAsync('bellhop/events/#', { qos: 1 });
  }

  async disconnect(): Promise<void> {
    await this.#client?.endAsync();
    this.#client = undefined;
  }
}

async function world(): Promise<{ broker: BrokerProcess; online: Session; offline: Session; publish: (ids: string[]) => Promise<void> }> {
  const broker = brokerProcess(testConfig());
  await broker.start();
  cleanups.push(() => broker.kill());
  const online = new Session(broker.url, 'slack-sink');
  const offline = new Session(broker.url, 'office-bell');
  for (const s of [online, offline]) {
    await s.connect();
    await s.subscribe();
  }
  await offline.disconnect();
  const publish = async (ids: string[]) => {
    const pub = await mqtt.connectAsync(broker.url, { clientId: `publisher-${Math.random()}`, reconnectPeriod: 0 });
    await Promise.all(ids.map((id) => pub.publishAsync(`bellhop/events/user.signup/${id}`, id, { qos: 1 })));
    await pub.endAsync();
  };
  return { broker, online, offline, publish };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `ev-${i}`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const embedded = process.env.BELLHOP_TEST_BROKER !== 'mosquitto';

describe('durable sessions across a broker restart', () => {
  for (const how of ['stop', 'kill'] as const) {
    it(`queue for the offline session alone after a ${how === 'stop' ? 'clean stop (SIGTERM)' : 'SIGKILL two seconds on'}`, async () => {
      const { broker, online, offline, publish } = await world();
      const sent = ids(30);
      await publish(sent);
      await waitFor(() => online.got.length >= sent.length, { what: 'the connected session to get every message' });
      await online.disconnect();
      // A clean stop writes down at once who owes what. Before a kill: Mosquitto writes its
      // snapshot every second (the generated autosave); the embedded broker writes down, after
      // a second, which sessions owe a message.
      if (how === 'kill') await pause(2500);
      await (how === 'stop' ? broker.stop() : broker.kill());
      await broker.start();

      await online.connect();
      await offline.connect();
      await waitFor(() => offline.got.length >= sent.length, { what: 'the offline session to get every message', timeoutMs: 10_000 });
      await pause(500);
      expect([...offline.got].sort()).toEqual([...sent].sort());
      expect(online.got).toHaveLength(sent.length);
    });
  }

  it.runIf(embedded)('repeats to everyone, never loses, what a SIGKILL caught before it was written down', async () => {
    const { broker, online, offline, publish } = await world();
    const sent = ids(30);
    await publish(sent);
    await waitFor(() => online.got.length >= sent.length, { what: 'the connected session to get every message' });
    await broker.kill();
    await broker.start();
    await online.connect();
    await offline.connect();
    await waitFor(() => offline.got.length >= sent.length && online.got.length >= 2 * sent.length, { what: 'every message to both', timeoutMs: 10_000 });
    expect([...new Set(offline.got)].sort()).toEqual([...sent].sort());
  });
});
