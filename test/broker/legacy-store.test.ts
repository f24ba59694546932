// An older bellhop's broker folder (aedes-persistence-level) is carried over at the first
// start of the new store: the offline session keeps its subscription and its queued
// messages, and a retained mute stays.
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { Level } from 'level';
import levelPersistence from 'aedes-persistence-level';
import mqtt from 'mqtt';
import { BrokerPart } from '../../broker/broker.js';
import { captureLogger, testConfig, waitFor } from '../helpers/world.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function legacyBroker(dir: string): Promise<void> {
  const db = new Level<string, Buffer>(dir, { valueEncoding: 'buffer' });
  await db.open();
  const aedes = await Aedes.createBroker({ persistence: levelPersistence(db) as never });
  const server = createServer((socket) => aedes.handle(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const bell = await mqtt.connectAsync(url, { clientId: 'office-bell', clean: false, reconnectPeriod: 0 });
  await bell.subscribeAsync('bellhop/events/#', { qos: 1 });
  await bell.endAsync();
  const pub = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  await pub.publishAsync('bellhop/devices/office-bell/mute', '{"muted":true}', { qos: 1, retain: true });
  for (const id of ['a', 'b', 'c']) await pub.publishAsync(`bellhop/events/user.signup/${id}`, id, { qos: 1 });
  await pub.endAsync();
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await db.close();
}

describe("an older bellhop's broker store", () => {
  it('is carried over: subscription, queued messages and retained state', async () => {
    const config = testConfig();
    await legacyBroker(join(config.dataDir, 'broker'));
    const { logger, text } = captureLogger('warn');
    const part = new BrokerPart({ config: config.broker, topicPrefix: 'bellhop', dataDir: config.dataDir, logger });
    await part.start();
    cleanups.push(() => part.stop());
    expect(text()).toMatch(/"sessions":1,"retained":1,"queued":3/);

    const got: string[] = [];
    const bell = mqtt.connect(part.url, { clientId: 'office-bell', clean: false, reconnectPeriod: 0 });
    bell.on('message', (_t, p) => got.push(p.toString()));
    const ack = await new Promise<{ sessionPresent: boolean }>((resolve) => bell.once('connect', resolve));
    cleanups.push(() => bell.endAsync());
    expect(ack.sessionPresent).toBe(true);
    await waitFor(() => got.length >= 3, { what: 'the queued messages' });
    expect(got.sort()).toEqual(['a', 'b', 'c']);

    const watcher = await mqtt.connectAsync(part.url, { reconnectPeriod: 0 });
    cleanups.push(() => watcher.endAsync());
    const retained: string[] = [];
    watcher.on('message', (_t, p) => retained.push(p.toString()));
    await watcher.subscribeAsync('bellhop/devices/+/mute', { qos: 1 });
    await waitFor(() => retained.length > 0, { what: 'the retained mute' });
    expect(retained).toEqual(['{"muted":true}']);
  });
});
