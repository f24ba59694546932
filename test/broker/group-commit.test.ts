// What the embedded broker writes, watched at the LevelDB store itself: one batch for the
// publishes that arrive together, synced before any of their PUBACKs leaves, and the same
// writes per message whether one durable session subscribes or three.
import { afterEach, describe, expect, it } from 'vitest';
import type { Level } from 'level';
import mqtt, { type MqttClient } from 'mqtt';
import { BrokerPart } from '../../broker/broker.js';
import { silentLogger, testConfig, waitFor } from '../helpers/world.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Batch {
  sync: boolean;
  /** Payloads of the ingress entries this batch wrote. */
  payloads: string[];
  ops: number;
  doneAt: number | undefined;
}

/** Records every batch the broker's store is given, and when the store finished it. */
function watch(batches: Batch[]): (db: Level<string, Buffer>) => void {
  return (db) => {
    const original = db.batch.bind(db) as (ops: unknown[], opts?: { sync?: boolean }) => Promise<void>;
    (db as unknown as { batch: typeof original }).batch = async (ops, opts) => {
      const entry: Batch = { sync: opts?.sync === true, ops: ops.length, doneAt: undefined, payloads: [] };
      for (const op of ops as Array<{ type: string; value?: Buffer }>) {
        if (op.type !== 'put' || !op.value) continue;
        const text = op.value.toString();
        if (text.startsWith('{"topic"')) entry.payloads.push(Buffer.from((JSON.parse(text) as { payload: string }).payload, 'base64').toString());
      }
      batches.push(entry);
      await original(ops, opts);
      entry.doneAt = performance.now();
    };
  };
}

async function broker(dataSync: 'group' | 'none', batches: Batch[]): Promise<BrokerPart> {
  const config = testConfig();
  const part = new BrokerPart({ config: config.broker, topicPrefix: 'bellhop', dataDir: config.dataDir, dataSync, logger: silentLogger(), watchStore: watch(batches) });
  await part.start();
  cleanups.push(() => part.stop());
  return part;
}

async function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
  cleanups.push(() => client.endAsync(true));
  return client;
}

describe("the embedded broker's writes", () => {
  it('syncs each group of publishes before any PUBACK of that group goes out', async () => {
    const batches: Batch[] = [];
    const part = await broker('group', batches);
    const publisher = await connect(part.url);
    const sentAt = new Map<number, string>();
    const ackedAt = new Map<string, number>();
    publisher.on('packetsend', (p) => {
      if (p.cmd === 'publish' && p.messageId !== undefined) sentAt.set(p.messageId, p.payload.toString());
    });
    publisher.on('packetreceive', (p) => {
      if (p.cmd === 'puback' && p.messageId !== undefined) ackedAt.set(sentAt.get(p.messageId)!, performance.now());
    });
    const payloads = Array.from({ length: 200 }, (_, i) => `m${i}`);
    await Promise.all(payloads.map((m) => publisher.publishAsync(`bellhop/events/t/${m}`, m, { qos: 1 })));

    const batchOf = new Map<string, Batch>();
    for (const b of batches) for (const p of b.payloads) batchOf.set(p, b);
    for (const m of payloads) {
      const b = batchOf.get(m);
      expect(b, `${m} written`).toBeDefined();
      expect(b!.sync, `${m}'s batch synced`).toBe(true);
      expect(b!.doneAt, `${m}'s batch finished`).toBeDefined();
      expect(ackedAt.get(m)!, `${m}'s PUBACK after its sync`).toBeGreaterThanOrEqual(b!.doneAt!);
    }
    // Grouped: far fewer batches than publishes.
    expect(new Set(payloads.map((m) => batchOf.get(m))).size).toBeLessThan(payloads.length / 4);
  });

  it('leaves syncing to the OS with dataSync none', async () => {
    const batches: Batch[] = [];
    const part = await broker('none', batches);
    const publisher = await connect(part.url);
    await publisher.publishAsync('bellhop/events/t/x', 'x', { qos: 1 });
    expect(batches.some((b) => b.payloads.includes('x'))).toBe(true);
    expect(batches.filter((b) => b.sync)).toEqual([]);
  });

  it('writes the same per message for one durable subscriber as for three', async () => {
    const perMessage = async (subscribers: number): Promise<number> => {
      const batches: Batch[] = [];
      const part = await broker('group', batches);
      const got: number[] = [];
      for (let i = 0; i < subscribers; i++) {
        const sub = await connect(part.url, { clientId: `durable-${i}`, clean: false });
        await sub.subscribeAsync('bellhop/events/#', { qos: 1 });
        got.push(0);
        sub.on('message', () => got[i]!++);
      }
      const before = batches.reduce((n, b) => n + b.ops, 0);
      const publisher = await connect(part.url);
      const n = 100;
      await Promise.all(Array.from({ length: n }, (_, i) => publisher.publishAsync(`bellhop/events/t/${i}`, `p${i}`, { qos: 1 })));
      await waitFor(() => got.every((g) => g >= n), { what: 'every subscriber to get every message' });
      // Give the acknowledgements' deletes time to be written.
      await waitFor(() => batches.every((b) => b.doneAt !== undefined) && batches.reduce((s, b) => s + b.ops, 0) - before >= 2 * n, { what: 'the deletes' });
      await new Promise((r) => setTimeout(r, 100));
      return (batches.reduce((s, b) => s + b.ops, 0) - before) / n;
    };
    const one = await perMessage(1);
    const three = await perMessage(3);
    // An entry written before the PUBACK, deleted once the last session acknowledged it.
    expect(one).toBe(2);
    expect(three).toBe(one);
  });
});
