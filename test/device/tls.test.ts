// A bell behind NAT reaching a broker across the internet: mqtts:// with a CA file.
// A TLS front (test-only) terminates with a certificate from a private CA and
// forwards to the test broker, as a load balancer or Mosquitto's TLS listener would.
import { connect as tcpConnect } from 'node:net';
import { createServer as createTlsServer, type Server } from 'node:tls';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentPart } from '../../device/agent.js';
import { MockGpioDriver } from '../../device/gpio/mock.js';
import { captureLogger, startBroker, testConfig, waitFor } from '../helpers/world.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url));

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tlsFront(targetPort: number): Promise<number> {
  const server: Server = createTlsServer({ key: readFileSync(fixture('broker.key')), cert: readFileSync(fixture('broker.pem')) }, (socket) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as { port: number }).port;
}

async function agentOver(caFile: string | undefined) {
  const base = testConfig();
  const broker = await startBroker(base);
  cleanups.push(() => broker.stop());
  const port = await tlsFront(broker.port);
  const config = testConfig({ dataDir: base.dataDir, mqtt: { url: `mqtts://localhost:${port}`, ...(caFile ? { caFile } : {}), reconnectMs: 100 } }, base.dataDir);
  const log = captureLogger('debug');
  const agent = new AgentPart({ config, driver: new MockGpioDriver(), logger: log.logger });
  let subscribed = false;
  agent.once('subscribed', () => (subscribed = true));
  await agent.start();
  cleanups.push(() => agent.stop());
  return { agent, log, subscribed: () => subscribed };
}

describe('a bell on a remote broker', () => {
  it('connects over mqtts:// trusting the broker through mqtt.caFile', async () => {
    const { agent, subscribed } = await agentOver(fixture('ca.pem'));
    await waitFor(subscribed, { what: 'the agent to subscribe over TLS' });
    expect(agent.connected).toBe(true);
  });

  it('refuses a broker whose certificate it cannot verify, and says why', async () => {
    const { agent, log } = await agentOver(undefined);
    await waitFor(() => log.lines().find((l) => l.msg === 'MQTT error' && /certificate/i.test(String(l.err))), { what: 'a certificate error in the log' });
    expect(agent.connected).toBe(false);
  });
});
