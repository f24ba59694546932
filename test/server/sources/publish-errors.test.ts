// Webhook sources answer a failed publish like the event API: 503 broker_unavailable when
// nothing was published, 504 publish_unconfirmed when the broker took the publish but did
// not acknowledge it in time. Providers retry any 5xx with the same delivery, and the
// retry carries the same event id, so subscribers drop the copy if the first went through.
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { ServerPart } from '../../../server/server.js';
import { parseEnvelope, type Envelope } from '../../../shared/envelope.js';
import { connectClient, startServer, testConfig, waitFor, withBroker } from '../../helpers/world.js';
import { holdingBroker, type HoldingBroker } from '../holding-broker.js';
import { fixture } from './world.js';

const STRIPE_SECRET = 'whsec_test_5f0c2b9d7e1a4c3b8f6e2d1a0c9b8a7f';
const CALLS_TOKEN = 'pbx-token-3c2b1a0f9e8d';

function stripeDelivery(): { body: string; headers: Record<string, string>; id: string } {
  const e = JSON.parse(fixture('stripe/customer.created.json')) as Record<string, unknown>;
  e.id = `evt_${randomUUID().replaceAll('-', '')}`;
  const body = JSON.stringify(e);
  const t = Math.floor(Date.now() / 1000);
  const signature = `t=${t},v1=${createHmac('sha256', STRIPE_SECRET).update(`${t}.${body}`).digest('hex')}`;
  return { body, headers: { 'content-type': 'application/json', 'stripe-signature': signature }, id: e.id as string };
}

function callDelivery(): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ call_id: randomUUID(), status: 'created', direction: 'inbound', caller: { number: '+3212345678' } });
  return { body, headers: { 'content-type': 'application/json', 'x-bellhop-token': CALLS_TOKEN } };
}

const SOURCES = {
  stripe: { enabled: true, secrets: [STRIPE_SECRET] },
  calls: { enabled: true, tokens: [CALLS_TOKEN] },
};
const ROUTES = { stripe: '/v1/sources/stripe', calls: '/v1/sources/calls' } as const;

async function post(server: ServerPart, path: string, delivery: { body: string; headers: Record<string, string> }) {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: delivery.headers, body: delivery.body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get('retry-after') };
}

describe('a webhook whose publish the broker does not acknowledge in time', () => {
  let broker: HoldingBroker;
  let server: ServerPart;
  let watcher: MqttClient;
  let holding = true;
  const seen: Envelope[] = [];

  beforeAll(async () => {
    broker = await holdingBroker(() => holding);
    server = await startServer(withBroker(testConfig({ server: { publishTimeoutMs: 300 }, sources: SOURCES }), broker.url));
    watcher = await connectClient(broker.url);
    watcher.on('message', (_t, payload) => seen.push(parseEnvelope(payload)));
    await watcher.subscribeAsync('bellhop/events/#', { qos: 1 });
  });
  afterAll(async () => {
    await watcher?.endAsync();
    await server?.stop();
    await broker?.close();
  });

  for (const [name, delivery] of [
    ['Stripe (its event id is the envelope id)', () => ({ ...stripeDelivery(), path: ROUTES.stripe })],
    ['a phone call (an id derived from the call id)', () => ({ ...callDelivery(), path: ROUTES.calls })],
  ] as const) {
    it(`is answered 504 publish_unconfirmed for ${name}, and the provider's retry carries the same event id`, async () => {
      const d = delivery();
      holding = true;
      const first = await post(server, d.path, d);
      expect(first.status).toBe(504);
      expect(first.retryAfter).toBe('2');
      expect(first.json).toEqual({ error: 'publish_unconfirmed', message: expect.stringContaining('may have been published') });

      // The broker had it after all: released, it reaches subscribers; then the provider retries.
      const before = seen.length;
      broker.release();
      await waitFor(() => seen.length > before, { what: 'the unconfirmed event, released' });
      holding = false;
      const retry = await post(server, d.path, d);
      expect(retry.status).toBe(202);
      await waitFor(() => seen.length > before + 1, { what: 'the retried event' });
      const [late, retried] = seen.slice(before);
      expect(retried!.id).toBe(late!.id);
      expect(retry.json).toMatchObject({ id: late!.id });
    });
  }
});

describe('a webhook while the broker is unreachable', () => {
  it('is answered 503 broker_unavailable with Retry-After: nothing was published', async () => {
    const broker = await holdingBroker(() => false);
    const server = await startServer(withBroker(testConfig({ mqtt: { reconnectMs: 60_000 }, sources: SOURCES }), broker.url));
    try {
      await broker.close();
      await waitFor(async () => (await fetch(`${server.url}/readyz`)).status === 503, { what: 'the server to lose the broker' });
      for (const d of [{ ...stripeDelivery(), path: ROUTES.stripe }, { ...callDelivery(), path: ROUTES.calls }]) {
        const res = await post(server, d.path, d);
        expect(res.status).toBe(503);
        expect(res.retryAfter).toBe('2');
        expect(res.json).toEqual({ error: 'broker_unavailable', message: expect.stringContaining('nothing was published') });
      }
    } finally {
      await server.stop();
    }
  });
});
