// mqtt.url with several node URLs (a cluster): a part connects to whichever answers and,
// each time it loses its node, tries the next. Runs on every broker of the suite.
import { afterEach, describe, expect, it } from 'vitest';
import { brokerUrls } from '../../shared/mqtt.js';
import { parseConfig } from '../../shared/config/load.js';
import { freePort } from '../helpers/mosquitto.js';
import { postEvents, startBroker, startServer, testConfig, withBroker } from '../helpers/world.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('mqtt.url naming several nodes', () => {
  it('is read as one URL per node, and refused naming the key when one is not a broker URL', () => {
    expect(brokerUrls('mqtt://a:1883, mqtts://b').map((u) => `${u.protocol}//${u.host}`)).toEqual(['mqtt://a:1883', 'mqtts://b']);
    expect(() => parseConfig({ mqtt: { url: 'mqtt://a:1883,http://bell:hunter22@b' } })).toThrow(
      'mqtt.url: every node URL must start with mqtt://, mqtts://, ws://, wss://, tcp:// or tls:// (got "http://bell:***@b")',
    );
  });

  it('gets a part to the node that answers when the first one is down', async () => {
    const base = testConfig({ mqtt: { reconnectMs: 100 } });
    const broker = await startBroker(base);
    cleanups.push(() => broker.stop());
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const server = await startServer(withBroker(base, `${dead},${broker.url}`));
    cleanups.push(() => server.stop());
    expect((await postEvents(server.url, { type: 'user.signup' })).status).toBe(202);
  });
});
