// Secrets never reach the logs: the broker (with logins), the server (with every source
// enabled) and a bell agent all log at trace level into one capture while we try wrong
// tokens, wrong MQTT passwords, tokens in headers and query strings, and bad signatures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerPart } from '../../broker/broker.js';
import type { ServerPart } from '../../server/server.js';
import type { AgentPart } from '../../device/agent.js';
import { MockGpioDriver } from '../../device/gpio/mock.js';
import { captureLogger, connectClient, startAgent, startServer, testConfig, TEST_TOKEN, waitFor, withBroker } from '../helpers/world.js';

const SECOND_TOKEN = 'second-api-token-0123456789';
const PASSWORDS = {
  server: 'server-mqtt-password-7f3a',
  bell: 'bell-mqtt-password-9c1d',
  ops: 'ops-mqtt-password-2b8e',
};
const SOURCE_SECRETS = {
  stripe: 'whsec_stripesecret0123456789',
  github: 'github-webhook-secret-4d5e',
  gitlab: 'gitlab-token-secret-6f70',
  coder: 'coder-token-secret-8192',
  airbrake: 'airbrake-project-key-a3b4',
  activecollab: 'activecollab-secret-c5d6',
  calls: 'calls-token-secret-e7f8',
  standard: 'standard-webhooks-secret-0a1b',
};
const SLACK = { botToken: 'xoxb-123456-secret-bot-token', appToken: 'xapp-1-secret-app-token-abc' };
/** What a caller tried that is also secret-shaped: a near miss of a real password. */
const WRONG = { mqtt: `${PASSWORDS.bell}-typo`, token: `${TEST_TOKEN}-typo` };

const SECRETS = [TEST_TOKEN, SECOND_TOKEN, ...Object.values(PASSWORDS), ...Object.values(SOURCE_SECRETS), ...Object.values(SLACK), ...Object.values(WRONG)];

describe('secrets in logs', () => {
  const log = captureLogger('trace');
  let broker: BrokerPart;
  let server: ServerPart;
  let agent: AgentPart;
  let driver: MockGpioDriver;

  beforeAll(async () => {
    const base = testConfig({
      log: { level: 'trace' },
      broker: {
        users: [
          { username: 'server', password: PASSWORDS.server, role: 'server' },
          { username: 'office-bell', password: PASSWORDS.bell, role: 'device' },
          { username: 'ops', password: PASSWORDS.ops, role: 'admin' },
        ],
      },
      server: { tokens: [{ name: 'test', token: TEST_TOKEN }, { name: 'second', token: SECOND_TOKEN }], mqtt: { username: 'server', password: PASSWORDS.server } },
      device: { mqtt: { username: 'office-bell', password: PASSWORDS.bell }, bell: { pulseMs: 5 } },
      slack: SLACK,
      sources: {
        stripe: { enabled: true, secrets: [SOURCE_SECRETS.stripe] },
        github: { enabled: true, secrets: [SOURCE_SECRETS.github] },
        gitlab: { enabled: true, tokens: [SOURCE_SECRETS.gitlab] },
        coder: { enabled: true, tokens: [SOURCE_SECRETS.coder] },
        airbrake: { enabled: true, projects: [{ id: '7', key: SOURCE_SECRETS.airbrake }] },
        activecollab: { enabled: true, secrets: [SOURCE_SECRETS.activecollab] },
        calls: { enabled: true, tokens: [SOURCE_SECRETS.calls] },
        standardWebhooks: { enabled: true, secrets: [{ name: 'ci', secret: SOURCE_SECRETS.standard }] },
      },
    });
    broker = new BrokerPart({ config: base.broker, topicPrefix: base.mqtt.topicPrefix, dataDir: base.dataDir, logger: log.logger });
    await broker.start();
    const config = withBroker(base, broker.url);
    server = await startServer(config, log.logger);
    ({ agent, driver } = await startAgent(config, new MockGpioDriver(), log.logger));
  });
  afterAll(async () => {
    await agent.stop();
    await server.stop();
    await broker.stop();
  });

  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('keeps tokens, passwords and signing secrets out of every line, whatever was tried', async () => {
    const event = JSON.stringify({ type: 'bell.test', id: 'with-auth' });
    // The event API: right and wrong tokens, in every place a client might put them.
    expect((await post('/v1/events', event, { authorization: `Bearer ${TEST_TOKEN}` })).status).toBe(202);
    expect((await post('/v1/events', JSON.stringify({ type: 'user.signup' }), { authorization: `Bearer ${SECOND_TOKEN}` })).status).toBe(202);
    expect((await post('/v1/events', event, { authorization: `Bearer ${WRONG.token}` })).status).toBe(401);
    expect((await post('/v1/events', event, { authorization: `Basic ${Buffer.from(`me:${TEST_TOKEN}`).toString('base64')}` })).status).toBe(401);
    expect((await post(`/v1/events?token=${TEST_TOKEN}`, event, {})).status).toBe(401);
    expect((await post('/v1/events', '{"type": "bell.test",', { authorization: `Bearer ${TEST_TOKEN}` })).status).toBe(400);
    // An event whose own data carries credentials is the sender's business, but the
    // request's Authorization header must still not be echoed anywhere.
    expect((await post('/v1/events', JSON.stringify({ type: 'user.signup', data: { note: 'hello' } }), { authorization: `Bearer ${TEST_TOKEN}`, 'x-debug': 'yes' })).status).toBe(202);

    // Webhook sources: tokens in query strings and headers, right and wrong, and bad signatures.
    await post(`/v1/sources/calls?token=${SOURCE_SECRETS.calls}`, JSON.stringify({ event: 'ringing', from: '+4912345' }), {});
    await post(`/v1/sources/calls?token=${WRONG.token}`, JSON.stringify({ event: 'ringing' }), {});
    await post('/v1/sources/coder', JSON.stringify({ title: 'x' }), { authorization: `Bearer ${SOURCE_SECRETS.coder}` });
    await post('/v1/sources/gitlab', JSON.stringify({ object_kind: 'push' }), { 'x-gitlab-token': `${SOURCE_SECRETS.gitlab}x` });
    await post('/v1/sources/github', JSON.stringify({ zen: 'hi' }), { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}`, 'x-github-event': 'ping' });
    await post('/v1/sources/stripe', JSON.stringify({ id: 'evt_1', type: 'invoice.paid' }), { 'stripe-signature': `t=1,v1=${'ab'.repeat(32)}` });
    await post(`/api/v3/projects/7/notices?key=${SOURCE_SECRETS.airbrake}`, JSON.stringify({ errors: [] }), {});
    await post('/v1/sources/activecollab', JSON.stringify({ type: 'TaskCreated' }), { 'x-angie-webhooksecret': SOURCE_SECRETS.activecollab });
    await post('/v1/events', event, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,bm90IGEgc2lnbmF0dXJl' });

    // The broker: a wrong password, another login's password, and a correct one.
    await expect(connectClient(broker.url, { username: 'office-bell', password: WRONG.mqtt, clientId: 'office-bell' })).rejects.toThrow();
    await expect(connectClient(broker.url, { username: 'ops', password: PASSWORDS.server, clientId: 'ops' })).rejects.toThrow();
    const ops = await connectClient(broker.url, { username: 'ops', password: PASSWORDS.ops, clientId: 'ops' });
    await ops.endAsync();

    // The events went all the way to the bell, so every part had its say in the logs.
    await waitFor(() => driver.pulses().length >= 1, { what: 'the bell.test pulse' });
    const text = log.text();
    expect(log.lines().length).toBeGreaterThan(20);
    expect(text).toContain('login refused');
    const encodings = (s: string) => [...new Set([s, Buffer.from(s).toString('base64'), Buffer.from(`me:${s}`).toString('base64'), encodeURIComponent(s)])];
    const found = SECRETS.flatMap((secret) => encodings(secret).filter((form) => text.includes(form)).map((form) => `${secret} (as ${form})`));
    expect(found).toEqual([]);
  });
});
