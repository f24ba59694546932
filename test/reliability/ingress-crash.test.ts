// aedes answers a QoS 1 PUBLISH with PUBACK before it stores and routes the message. The
// embedded broker keeps the message on disk before that PUBACK (broker/ingress-log.ts), so a
// crash in between no longer loses what the publisher was told is safe. A fixture broker
// stops forever right after the PUBACK, at the step that would queue the message; the test
// SIGKILLs it there and starts `bellhop broker` on the same data folder. Embedded broker only.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { assertBuilt, runCli, type CliProcess } from '../helpers/cli.js';
import { connectClient, tempDir, waitFor } from '../helpers/world.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/brokers/stalling-broker.mjs', import.meta.url));
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function stallingBroker(dataDir: string): Promise<{ port: number; output: () => string; kill: () => Promise<void> }> {
  assertBuilt();
  const child = spawn(process.execPath, [FIXTURE, dataDir], { stdio: 'pipe' });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  cleanups.push(kill);
  const [, port] = await waitFor(() => out.match(/listening mqtt:\/\/[^:]+:(\d+)/), { what: `the fixture broker (${out})` });
  return { port: Number(port), output: () => out, kill };
}

function embeddedBroker(dataDir: string, port: number): CliProcess {
  const cli = runCli(['broker'], { BELLHOP_MQTT_PORT: String(port), BELLHOP_DATA_DIR: dataDir, BELLHOP_LOG_LEVEL: 'warn' });
  cleanups.push(async () => {
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
  return cli;
}

/** A persistent QoS 1 subscriber that reconnects on its own, as the sink and the bell do. */
function subscriber(port: number): { client: MqttClient; got: string[] } {
  const got: string[] = [];
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'ingress-sink', clean: false, protocolVersion: 4, reconnectPeriod: 100 });
  client.on('message', (_topic, payload) => got.push(payload.toString()));
  cleanups.push(() => client.endAsync(true));
  return { client, got };
}

describe('a QoS 1 message acknowledged just before the embedded broker died', () => {
  it('is delivered after the restart, once', async () => {
    const data = tempDir();
    cleanups.push(() => data.remove());
    const crashing = await stallingBroker(data.path);
    const sink = subscriber(crashing.port);
    await new Promise((resolve) => sink.client.once('connect', resolve));
    await sink.client.subscribeAsync('bellhop/events/#', { qos: 1 });

    const publisher = await connectClient(`mqtt://127.0.0.1:${crashing.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => publisher.endAsync(true));
    await publisher.publishAsync('bellhop/events/test/before', 'before', { qos: 1 });
    // Resolves on the PUBACK: from here the publisher may forget the message.
    await publisher.publishAsync('bellhop/events/test/signup', 'stall: acknowledged', { qos: 1 });
    await waitFor(() => crashing.output().includes('stalled stall: acknowledged'), { what: 'the fixture to stall' });
    await waitFor(() => sink.got.includes('before'), { what: 'the message before the stall' });
    expect(sink.got).not.toContain('stall: acknowledged');
    // The SUBACK comes after the broker read the sink's PUBACK of 'before' and stored what that
    // PUBACK let it forget (the subscription is written after it): only the stalled one is owed.
    await sink.client.subscribeAsync('bellhop/barrier', { qos: 0 });
    await crashing.kill();

    const restarted = embeddedBroker(data.path, crashing.port);
    await restarted.waitForOutput(/bellhop broker listening/);
    await waitFor(() => sink.got.includes('stall: acknowledged'), { what: `the acknowledged message after the restart (got ${JSON.stringify(sink.got)})` });
    expect(restarted.stderr()).toMatch(/"published":1,"msg":"delivering again what was acknowledged before the last stop"/);

    // The broker has read the sink's PUBACK once it answers a later packet (a clean stop then saves it).
    await sink.client.subscribeAsync('bellhop/barrier', { qos: 0 });
    // Published once more, not at every start: after a clean restart, a marker sent behind
    // it arrives with nothing replayed ahead of it.
    restarted.child.kill('SIGTERM');
    await restarted.exited;
    const again = embeddedBroker(data.path, crashing.port);
    await again.waitForOutput(/bellhop broker listening/);
    const marker = await connectClient(`mqtt://127.0.0.1:${crashing.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => marker.endAsync(true));
    await marker.publishAsync('bellhop/events/test/marker', 'marker', { qos: 1 });
    await waitFor(() => sink.got.includes('marker'), { what: 'the marker' });
    expect(sink.got.filter((p) => p === 'stall: acknowledged')).toHaveLength(1);
  });

  it('does not put back a retained message that a newer one replaced', async () => {
    const data = tempDir();
    cleanups.push(() => data.remove());
    const crashing = await stallingBroker(data.path);
    const publisher = await connectClient(`mqtt://127.0.0.1:${crashing.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => publisher.endAsync(true));
    const topic = 'bellhop/devices/office-bell/mute';
    // A persistent subscriber makes aedes queue (and so stall) the first one.
    const watcher = subscriber(crashing.port);
    await new Promise((resolve) => watcher.client.once('connect', resolve));
    await watcher.client.subscribeAsync(topic, { qos: 1 });
    await publisher.publishAsync(topic, 'stall: old', { qos: 1, retain: true });
    await waitFor(() => crashing.output().includes('stalled stall: old'), { what: 'the fixture to stall' });
    await publisher.publishAsync(topic, 'new', { qos: 1, retain: true });
    await waitFor(() => watcher.got.includes('new'), { what: 'the newer retained message' });
    await crashing.kill();

    const restarted = embeddedBroker(data.path, crashing.port);
    await restarted.waitForOutput(/bellhop broker listening/);
    const late = await connectClient(`mqtt://127.0.0.1:${crashing.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => late.endAsync(true));
    const retained: string[] = [];
    late.on('message', (_t, payload, packet) => packet.retain && retained.push(payload.toString()));
    await late.subscribeAsync(topic, { qos: 1 });
    await waitFor(() => retained.length > 0, { what: 'the retained message' });
    expect(retained).toEqual(['new']);
    // Nor hand its subscriber the stale value after the newer one: queued messages come
    // before a marker published now.
    await late.publishAsync(topic, 'marker', { qos: 1 });
    await waitFor(() => watcher.got.includes('marker'), { what: 'the marker' });
    expect(watcher.got).not.toContain('stall: old');
  });
});
