// A watcher that starts after the bell learns it, its mute and its heartbeat, on every
// broker: from the retained copies where the broker hands them to wildcards (aedes,
// Mosquitto), from the roll call and the exact mute subscription where it does not (RabbitMQ).
import { afterEach, describe, expect, it } from 'vitest';
import { muteCommand } from '../../shared/mute.js';
import { Topics } from '../../shared/topics.js';
import type { DevicesReply } from '../../server/status/schemas.js';
import { connectClient, startAgent, startBroker, startServer, testConfig, TEST_TOKEN, waitFor, withBroker } from '../helpers/world.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('a status page started after the bell', () => {
  it('lists the bell online, muted until the time its mute says, with its heartbeat', async () => {
    const base = testConfig();
    const broker = await startBroker(base);
    cleanups.push(() => broker.stop());
    const config = withBroker(base, broker.url);
    const { agent } = await startAgent(config);
    cleanups.push(() => agent.stop());
    const until = new Date(Date.now() + 30 * 60_000);
    const mute = muteCommand(new Topics('bellhop'), 'office-bell', until, 'test/roll-call');
    const admin = await connectClient(broker.url);
    cleanups.push(() => admin.endAsync());
    await admin.publishAsync(mute.topic, mute.payload, { qos: 1, retain: true });
    await waitFor(() => agent.state().muted, { what: 'the bell to take the mute' });

    const server = await startServer(config);
    cleanups.push(() => server.stop());
    const bell = await waitFor(
      async () => {
        const res = await fetch(`${server.url}/v1/devices`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
        const body = (await res.json()) as DevicesReply;
        return body.devices.find((d) => d.id === 'office-bell' && d.mutedUntil !== null && d.heartbeatAt !== null);
      },
      { what: 'the page to know the bell, its mute and its heartbeat' },
    );
    expect(bell).toMatchObject({ state: 'online', muted: true, mutedUntil: until.toISOString(), mutedBy: 'test/roll-call', version: expect.any(String) });
  });
});
