import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerPart } from '../../broker/broker.js';
import type { Config } from '../../shared/config/schema.js';
import { makeCerts, type TestCerts } from './certs.js';
import { mosquittoBinary, MOSQUITTO_MISSING, startMosquitto } from '../helpers/mosquitto.js';
import { connectClient, postEvents, silentLogger, startAgent, startServer, tempDir, testConfig, waitFor, withBroker } from '../helpers/world.js';

let certs: TestCerts;
let strangers: TestCerts;
const folder = tempDir('bellhop-tls-');
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => {
  mkdirSync(join(folder.path, 'ours'));
  mkdirSync(join(folder.path, 'strangers'));
  certs = makeCerts(join(folder.path, 'ours'));
  strangers = makeCerts(join(folder.path, 'strangers'), 'some-other-ca');
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(() => folder.remove());

/** The embedded broker itself (not the project's broker under test): TLS is its feature. */
async function tlsBroker(raw: Record<string, unknown> = {}): Promise<{ broker: BrokerPart; config: Config }> {
  const config = testConfig({ broker: { tls: { certFile: certs.certFile, keyFile: certs.keyFile } }, ...raw });
  const broker = new BrokerPart({ config: config.broker, topicPrefix: config.mqtt.topicPrefix, dataDir: config.dataDir, logger: silentLogger() });
  await broker.start();
  cleanups.push(() => broker.stop());
  return { broker, config };
}

describe('the embedded broker with broker.tls', () => {
  it('carries an event from the server to the bell over mqtts://, trusted through mqtt.caFile', async () => {
    const { broker, config: base } = await tlsBroker({ device: { bell: { pulseMs: 5 } } });
    expect(broker.url).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const config = withBroker({ ...base, mqtt: { ...base.mqtt, caFile: certs.caFile } }, broker.url);
    const server = await startServer(config);
    cleanups.push(() => server.stop());
    const { agent, driver } = await startAgent(config);
    cleanups.push(() => agent.stop());
    expect((await postEvents(server.url, { type: 'bell.test' })).status).toBe(202);
    await waitFor(() => driver.pulses().length === 1, { what: 'the pulse over TLS' });
  });

  it('refuses a client that trusts another CA, and one speaking plain MQTT', async () => {
    const { broker } = await tlsBroker();
    await expect(connectClient(broker.url, { ca: readFileSync(strangers.caFile) })).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    await expect(connectClient(broker.url.replace('mqtts:', 'mqtt:'), { connectTimeout: 2000 })).rejects.toThrow();
    // It keeps serving the clients that do trust it.
    const ok = await connectClient(broker.url, { ca: readFileSync(certs.caFile) });
    await ok.endAsync();
  });

  it('fails to start with the key and path when a certificate file is missing', async () => {
    const config = testConfig({ broker: { tls: { certFile: join(folder.path, 'missing.crt'), keyFile: certs.keyFile } } });
    const broker = new BrokerPart({ config: config.broker, topicPrefix: 'bellhop', dataDir: config.dataDir, logger: silentLogger() });
    await expect(broker.start()).rejects.toThrow(`broker.tls.certFile: cannot read ${join(folder.path, 'missing.crt')}: ENOENT`);
  });
});

describe.skipIf(!mosquittoBinary())(`Mosquitto with the generated TLS listener${mosquittoBinary() ? '' : ` (skipped: ${MOSQUITTO_MISSING})`}`, () => {
  it('serves the same certificates and logins', async () => {
    const users = [{ username: 'ops', password: 'ops-password-x', role: 'admin' }];
    const broker = await startMosquitto(testConfig({ broker: { users, tls: { certFile: certs.certFile, keyFile: certs.keyFile } } }));
    cleanups.push(() => broker.stop());
    expect(broker.url).toMatch(/^mqtts:/);
    const ok = await connectClient(broker.url, { ca: readFileSync(certs.caFile), username: 'ops', password: 'ops-password-x' });
    await ok.endAsync();
    await expect(connectClient(broker.url, { ca: readFileSync(strangers.caFile), username: 'ops', password: 'ops-password-x' })).rejects.toThrow(
      /self.signed|unable to verify|certificate/i,
    );
  });
});
