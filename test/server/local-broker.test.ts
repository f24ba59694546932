// `bellhop start` hands the server its own process's broker: events are published to it
// without a socket, and the status page is fed by it. Everything a TCP publish promises
// still holds: a durable subscriber elsewhere gets the event, the page traces it, the 202
// comes after the ingress log has it on disk, and a stopped broker gets a 503, not a 202.
import { afterEach, describe, expect, it } from 'vitest';
import type { Level } from 'level';
import mqtt from 'mqtt';
import { BrokerPart } from '../../broker/broker.js';
import { ServerPart } from '../../server/server.js';
import { parseEnvelope } from '../../shared/envelope.js';
import { postEvents, silentLogger, testConfig, waitFor, withBroker, TEST_TOKEN } from '../helpers/world.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function world(): Promise<{ broker: BrokerPart; server: ServerPart; written: string[] }> {
  const base = testConfig();
  const written: string[] = [];
  const watchStore = (db: Level<string, Buffer>) => {
    const batch = db.batch.bind(db) as unknown as (ops: Array<{ type: string; value?: Buffer }>, opts?: object) => Promise<void>;
    (db as unknown as { batch: typeof batch }).batch = async (ops, opts) => {
      await batch(ops, opts);
      for (const op of ops) if (op.type === 'put' && op.value?.toString().startsWith('{"topic"')) written.push(op.value.toString());
    };
  };
  const broker = new BrokerPart({ config: base.broker, topicPrefix: 'bellhop', dataDir: base.dataDir, logger: silentLogger(), watchStore });
  await broker.start();
  cleanups.push(() => broker.stop());
  const config = withBroker(base, broker.url);
  const server = new ServerPart({ config, tokens: config.server.tokens, logger: silentLogger(), localBroker: broker.local() });
  await server.start();
  cleanups.push(() => server.stop());
  return { broker, server, written };
}

describe("the server on its own process's broker", () => {
  it('publishes to it without a socket: a durable subscriber gets the event, the page traces it, after the ingress log has it', async () => {
    const { broker, server, written } = await world();
    const bell = await mqtt.connectAsync(broker.url, { clientId: 'office-bell', clean: false, reconnectPeriod: 0 });
    cleanups.push(() => bell.endAsync());
    const got: string[] = [];
    bell.on('message', (_t, p) => got.push(parseEnvelope(p).id));
    await bell.subscribeAsync('bellhop/events/#', { qos: 1 });

    const res = await postEvents(server.url, { type: 'user.signup', id: 'local-1' });
    expect(res.status).toBe(202);
    // The answer came after the event was on disk.
    const payloads = written.map((w) => Buffer.from((JSON.parse(w) as { payload: string }).payload, 'base64').toString());
    expect(payloads.some((p) => p.includes('"local-1"'))).toBe(true);
    await waitFor(() => got.includes('local-1'), { what: 'the subscriber to get the event' });
    const trace = await waitFor(async () => {
      const r = await fetch(`${server.url}/v1/events/local-1/trace`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      return r.status === 200 ? ((await r.json()) as { steps: Array<{ stage: string }> }) : undefined;
    }, { what: 'the trace' });
    expect(trace.steps.map((s) => s.stage)).toContain('accepted');
  });

  it('answers 503 once the broker has stopped', async () => {
    const { broker, server } = await world();
    await broker.stop();
    const res = await postEvents(server.url, { type: 'user.signup', id: 'after-stop' });
    expect(res.status).toBe(503);
  });
});
