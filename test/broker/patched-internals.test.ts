// bellhop reaches into a few internals of aedes, aedes-persistence (whose in-memory engine
// broker/sessions.ts subclasses), aedes-persistence-level (read once, to carry an older store
// over) and mqtt.js (each place says why: slack/acks-when-stored.ts, server/publisher.ts). package.json pins those exactly; this test fails on an upgrade that
// renames or reshapes one of them, before a silent misbehaviour in production can.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Aedes, type Client } from 'aedes';
import { Level } from 'level';
import levelPersistence from 'aedes-persistence-level';
import LegacyPersistence from 'aedes-persistence-level/asyncPersistence.js';
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('the library internals bellhop patches', () => {
  it('pins aedes, aedes-persistence, aedes-persistence-level and mqtt to the exact versions installed', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of ['aedes', 'aedes-persistence', 'aedes-persistence-level', 'mqtt']) {
      // Read from node_modules directly: aedes' `exports` hides its package.json.
      const installed = (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
      expect(pkg.dependencies[name], name).toBe(installed);
    }
  });

  it('finds every internal the embedded broker and the MQTT clients rely on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bellhop-internals-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = new Level<string, Buffer>(dir, { valueEncoding: 'buffer' });
    await db.open();
    cleanups.push(() => db.close());

    // broker/legacy-store.ts reads an older store through these.
    const legacy = new LegacyPersistence(db) as unknown as Record<string, unknown>;
    for (const name of ['setup', 'createRetainedStream', 'subscriptionsByClient', 'outgoingStream']) expect(typeof legacy[name], name).toBe('function');
    // broker/sessions.ts overrides these methods of the in-memory engine, each calling it.
    const memory = MemoryPersistence.prototype as unknown as Record<string, unknown>;
    for (const name of ['addSubscriptions', 'removeSubscriptions', 'cleanSubscriptions', 'storeRetained', 'outgoingEnqueue', 'outgoingEnqueueCombi', 'outgoingClearMessageId', 'outgoingUpdate', 'incomingGetPacket', 'putWill', 'getWill', 'delWill', 'streamWill', 'subscriptionsByClient', 'subscriptionsByTopic']) {
      expect(typeof memory[name], name).toBe('function');
    }

    const aedes = await Aedes.createBroker({ persistence: levelPersistence(db) as never });
    cleanups.push(() => new Promise<void>((resolve) => aedes.close(() => resolve())));
    // broker/broker.ts numbers QoS 1 publishes itself (brokerId/brokerCounter) for the ingress log.
    const broker = aedes as unknown as { id: unknown; counter: unknown };
    expect(typeof broker.id).toBe('string');
    expect(typeof broker.counter).toBe('number');

    const server = createServer((socket) => aedes.handle(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const seen = once(aedes, 'client') as Promise<[Client]>;
    const client = mqtt.connect(`mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, { reconnectPeriod: 0 });
    cleanups.push(() => new Promise<void>((resolve) => client.end(true, {}, () => resolve())));
    const [brokerClient] = await seen;
    await new Promise((resolve) => client.once('connect', resolve));
    await client.subscribeAsync('bellhop/#', { qos: 1 });

    // authorizeForward reads a client's subscriptions; the retained-drop fix replaces `duplicates`.
    const internals = brokerClient as unknown as { subscriptions: Record<string, { qos: number }>; duplicates: unknown };
    expect(internals.subscriptions['bellhop/#']).toMatchObject({ qos: 1 });
    expect(typeof internals.duplicates).toBe('object');

    // server/publisher.ts and slack/sink.ts read mqtt.js' in-flight map and drop entries from it.
    const inflight = client as unknown as { outgoing: unknown; removeOutgoingMessage: unknown };
    expect(typeof inflight.outgoing).toBe('object');
    expect(typeof inflight.removeOutgoingMessage).toBe('function');

    // slack/acks-when-stored.ts holds back the PUBACKs mqtt.js sends through _sendPacket.
    const sending = client as unknown as { _sendPacket: (packet: { cmd: string; messageId?: number }, cb?: () => void) => void };
    const send = sending._sendPacket.bind(client);
    const sent: string[] = [];
    sending._sendPacket = (packet, cb) => {
      sent.push(packet.cmd);
      send(packet, cb);
    };
    const received = new Promise((resolve) => client.once('message', resolve));
    aedes.publish({ cmd: 'publish', topic: 'bellhop/x', payload: Buffer.from('x'), qos: 1, retain: false, dup: false }, () => undefined);
    await received;
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toContain('puback');
  });
});
