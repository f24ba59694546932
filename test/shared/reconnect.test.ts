import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { ReconnectBackoff } from '../../shared/reconnect.js';
import { waitFor } from '../helpers/world.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('reconnect back-off', () => {
  it('doubles the wait after each failed attempt up to the ceiling, and starts over after a connect', () => {
    const client = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true, reconnectPeriod: 100 });
    const backoff = new ReconnectBackoff(client, { baseMs: 100, maxMs: 1000, jitter: 0 });
    backoff.start();
    cleanups.push(() => backoff.stop());
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      client.emit('close');
      waits.push(client.options.reconnectPeriod!);
    }
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
    client.emit('connect', { cmd: 'connack', returnCode: 0, sessionPresent: false });
    expect(client.options.reconnectPeriod).toBe(100);
    client.emit('close');
    expect(client.options.reconnectPeriod).toBe(100);
  });

  it('only ever shortens a wait with its jitter', () => {
    const client = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true });
    const low = new ReconnectBackoff(client, { baseMs: 1000, maxMs: 8000, jitter: 0.2, random: () => 1 });
    const high = new ReconnectBackoff(client, { baseMs: 1000, maxMs: 8000, jitter: 0.2, random: () => 0 });
    expect([low.nextDelay(), low.nextDelay(), low.nextDelay(), low.nextDelay(), low.nextDelay()]).toEqual([800, 1600, 3200, 6400, 6400]);
    expect([high.nextDelay(), high.nextDelay(), high.nextDelay(), high.nextDelay(), high.nextDelay()]).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('spaces a real client\'s attempts further apart while the broker keeps hanging up', async () => {
    // A "broker" that accepts each connection and drops it at once.
    const attempts: number[] = [];
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      attempts.push(Date.now());
      sockets.add(socket);
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as { port: number }).port;
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 40, connectTimeout: 1000 });
    client.on('error', () => undefined);
    const backoff = new ReconnectBackoff(client, { baseMs: 40, maxMs: 320, jitter: 0 });
    backoff.start();
    cleanups.push(() => client.end(true), () => backoff.stop());
    await waitFor(() => attempts.length >= 6, { timeoutMs: 10_000, what: 'six connection attempts' });
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // Timers never fire early, so each gap is at least its wait: 40, 80, 160, 320, 320.
    [40, 80, 160, 320, 320].forEach((wait, i) => expect(gaps[i]).toBeGreaterThanOrEqual(wait - 5));
  });
});
