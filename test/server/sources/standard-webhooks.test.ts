import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceWorld, type SourceWorld } from './world.js';

const SECRET = `whsec_${Buffer.from('billing service signing key 0001').toString('base64')}`;

/** Signs like a Standard Webhooks sender: HMAC-SHA256 of "id.timestamp.body" with the decoded secret. */
function sign(body: string, opts: { id?: string; t?: number; secret?: string } = {}): Record<string, string> {
  const id = opts.id ?? `msg_${randomUUID()}`;
  const t = opts.t ?? Math.floor(Date.now() / 1000);
  const key = Buffer.from((opts.secret ?? SECRET).slice('whsec_'.length), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${t}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(t), 'webhook-signature': `v1,${sig}` };
}

describe('Standard Webhooks signatures on /v1/events', () => {
  let world: SourceWorld;
  const post = (body: string, headers: Record<string, string>) => world.post('/v1/events', body, headers);

  beforeAll(async () => {
    // The spec's example types are the sender's own, which a team accepts with server.eventTypes.
    world = await sourceWorld({ standardWebhooks: { enabled: true, secrets: [{ name: 'billing', secret: SECRET }] } }, { server: { eventTypes: ['contact.*'] } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('accepts a signed event instead of a bearer token, with webhook-id as the event id', async () => {
    const body = JSON.stringify({ type: 'payment.succeeded', data: { amount: 4900 } });
    const h = sign(body);
    const res = await post(body, h);
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ ids: [h['webhook-id']] });
    expect(await world.drain()).toMatchObject([{ id: h['webhook-id'], type: 'payment.succeeded', source: 'api/billing', data: { amount: 4900 } }]);
  });

  it("accepts the spec's own payload, {type, timestamp, data}, its timestamp becoming the event time", async () => {
    // Written from the spec (standard-webhooks.md, "Payload structure"), minified as a sender sends it.
    const body = '{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485","type":"contact"}}';
    const h = sign(body, { id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' });
    const res = await post(body, h);
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(res.json).toEqual({ ids: ['msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'] });
    const [e, ...rest] = await world.drain();
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', type: 'contact.created', source: 'api/billing', time: '2022-11-03T20:26:10.344522Z', data: { id: '1f81eb52-5198-4599-803e-771906343485', type: 'contact' } });
    expect(e).not.toHaveProperty('timestamp');
  });

  it('refuses a body whose time and timestamp disagree with a 400 that names both', async () => {
    const body = JSON.stringify({ type: 'contact.created', time: '2022-11-03T20:26:10Z', timestamp: '2022-11-03T21:26:10Z', data: {} });
    const res = await post(body, sign(body));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'invalid_event', message: '/timestamp: 2022-11-03T21:26:10Z disagrees with /time 2022-11-03T20:26:10Z; send one of them (timestamp is the Standard Webhooks name for time)' });
    // The same instant written twice is no disagreement.
    const same = JSON.stringify({ type: 'contact.created', time: '2022-11-03T20:26:10Z', timestamp: '2022-11-03T21:26:10+01:00' });
    expect((await post(same, sign(same))).status).toBe(202);
    expect(await world.drain()).toHaveLength(1);
  });

  it('derives one id per event of a signed batch', async () => {
    const body = JSON.stringify([{ type: 'user.signup' }, { type: 'user.login' }]);
    const h = sign(body);
    const res = await post(body, h);
    expect(res.status).toBe(202);
    const id = h['webhook-id'];
    expect(res.json).toEqual({ ids: [`${id}-0`, `${id}-1`] });
    expect((await world.drain()).map((e) => e.id).sort()).toEqual([`${id}-0`, `${id}-1`]);
  });

  it('answers a redelivery of the same webhook-id with 200 and the same ids, publishing once', async () => {
    const body = JSON.stringify({ type: 'user.signup', data: { email: 'a@example.com' } });
    const id = `msg_${randomUUID()}`;
    expect((await post(body, sign(body, { id }))).status).toBe(202);
    // A retry is signed again, with a newer timestamp.
    const again = await post(body, sign(body, { id, t: Math.floor(Date.now() / 1000) + 5 }));
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ ids: [id], status: 'duplicate' });
    expect(await world.drain()).toMatchObject([{ id }]);
  });

  it('refuses a wrong signature, a tampered body, a missing header and a stale timestamp with 401', async () => {
    const body = JSON.stringify({ type: 'user.signup' });
    const other = `whsec_${Buffer.from('someone else').toString('base64')}`;
    const cases: Array<[string, string, Record<string, string>]> = [
      ['wrong secret', body, sign(body, { secret: other })],
      ['tampered body', body.replace('signup', 'login'), sign(body)],
      ['no timestamp', body, (({ 'webhook-timestamp': _t, ...rest }) => rest)(sign(body))],
      ['stale', body, sign(body, { t: Math.floor(Date.now() / 1000) - 600 })],
    ];
    for (const [what, b, h] of cases) {
      const res = await post(b, h);
      expect(res.status, what).toBe(401);
      expect(res.json.error, what).toBe('unauthorized');
    }
    expect(await world.drain()).toEqual([]);
  });

  it('answers a correctly signed but malformed body with 400, like the bearer path', async () => {
    const notJson = '{"type": ';
    expect((await post(notJson, sign(notJson))).status).toBe(400);
    const unknown = JSON.stringify({ type: 'user.sigup' });
    const res = await post(unknown, sign(unknown));
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('unknown_type');
    expect(await world.drain()).toEqual([]);
  });

  it('uses the bearer token when both are present', async () => {
    const body = JSON.stringify({ type: 'user.signup' });
    const res = await post(body, { ...sign(body, { secret: `whsec_${Buffer.from('wrong').toString('base64')}` }), authorization: 'Bearer not-the-token-at-all' });
    expect(res.status).toBe(401);
    expect(res.json.message).toBe('token not accepted');
  });
});

describe('/v1/events without Standard Webhooks enabled', () => {
  let world: SourceWorld;

  beforeAll(async () => {
    world = await sourceWorld({});
  });
  afterAll(async () => {
    await world?.close();
  });

  it('refuses a signed delivery as unauthenticated', async () => {
    const body = JSON.stringify({ type: 'user.signup' });
    const res = await world.post('/v1/events', body, sign(body));
    expect(res.status).toBe(401);
    expect(res.json.message).toMatch(/missing Authorization/);
    expect(await world.drain()).toEqual([]);
  });
});
