// A report published while mqtt.js resends what it stored (on the first connection after an
// outage) waits in the client's side queue; when that connection drops too, mqtt.js fails
// it with "Connection closed" and forgets it. ReportOutbox keeps such a report and sends it
// on the next connection.
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ReportOutbox } from '../../shared/reports.js';
import { connectClient, startBroker, testConfig, waitFor } from '../helpers/world.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const storeProcessing = (c: MqttClient) => (c as unknown as { _storeProcessing: boolean })._storeProcessing;
const cut = (c: MqttClient) => (c.stream as unknown as { destroy: () => void }).destroy();

describe('ReportOutbox', () => {
  it('delivers every report published while the client resends its backlog and the connection drops again', async () => {
    const config = testConfig();
    const broker = await startBroker(config);
    cleanups.push(() => broker.stop());
    const seen = new Set<string>();
    const witness = await connectClient(broker.url);
    cleanups.push(() => witness.endAsync());
    witness.on('message', (_t, payload) => seen.add(payload.toString()));
    await witness.subscribeAsync('bellhop/test/#', { qos: 1 });

    const client = mqtt.connect(broker.url, { clientId: 'report-outbox-test', clean: false, reconnectPeriod: 50, log: () => undefined });
    cleanups.push(() => client.endAsync(true));
    await new Promise((resolve) => client.once('connect', resolve));
    const reports = new ReportOutbox(client);

    // A backlog in flight, then the link goes: the next connection starts by resending it.
    for (let i = 0; i < 300; i++) client.publish('bellhop/test/backlog', `backlog-${i}`, { qos: 1 });
    cut(client);
    await waitFor(() => storeProcessing(client), { what: 'the client to resend its backlog', timeoutMs: 5000, intervalMs: 1 });
    for (let i = 0; i < 20; i++) reports.publish('bellhop/test/report', `report-${i}`);
    // ...and that connection drops too, while the reports wait behind the backlog.
    cut(client);

    await waitFor(() => Array.from({ length: 20 }, (_, i) => `report-${i}`).every((r) => seen.has(r)), { what: 'every report at the witness', timeoutMs: 10_000 });
    expect(reports.waiting).toBe(0);
  });

  it('keeps at most max reports while the broker is away, dropping the oldest', () => {
    const listeners: Array<() => void> = [];
    const sent: string[] = [];
    let fail = true;
    const fake = {
      connected: false,
      on: (_e: string, l: () => void) => listeners.push(l),
      off: () => undefined,
      publish: (_topic: string, payload: string, _opts: unknown, cb: (err?: Error) => void) => {
        if (fail) cb(new Error('Connection closed'));
        else sent.push(payload);
      },
    };
    const drops: number[] = [];
    const reports = new ReportOutbox(fake as unknown as MqttClient, { max: 3, onDrop: (n) => drops.push(n) });
    for (let i = 0; i < 5; i++) reports.publish('t', `r${i}`);
    expect(reports.waiting).toBe(3);
    expect(drops).toEqual([1, 2]);
    fail = false;
    for (const l of listeners) l();
    expect(sent).toEqual(['r2', 'r3', 'r4']);
    expect(reports.waiting).toBe(0);
  });
});
