// Every webhook route reads its body the way /v1/events does: JSON said so in Content-Type
// (415 otherwise, with the same words), nothing compressed (415), and a schema check that
// names the field (400 invalid_payload) before the delivery log can answer "duplicate".
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN } from '../../helpers/world.js';
import { sign as stripeSign, SECRET as STRIPE_SECRET } from './stripe-helpers.js';
import { fixture, sourceWorld, type Reply, type SourceWorld } from './world.js';

const TOKEN = 'strict-bodies-token-0a1b2c3d';
const AIRBRAKE_KEY = 'airbrake-key-9f8e7d6c5b4a';
const GITHUB_SECRET = 'gh-secret-for-strict-bodies';

interface Route {
  name: string;
  path: string;
  fixture: string;
  /** Headers that authenticate the body (some sign it). */
  auth: (body: string) => Record<string, string>;
}

const ROUTES: Route[] = [
  { name: 'stripe', path: '/v1/sources/stripe', fixture: 'stripe/invoice.paid.json', auth: (b) => ({ 'stripe-signature': stripeSign(b) }) },
  {
    name: 'github',
    path: '/v1/sources/github',
    fixture: 'github/pull_request.opened.json',
    auth: (b) => ({ 'x-github-event': 'pull_request', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(b).digest('hex')}` }),
  },
  { name: 'gitlab', path: '/v1/sources/gitlab', fixture: 'gitlab/pipeline.failed.json', auth: () => ({ 'x-gitlab-token': TOKEN, 'x-gitlab-event-uuid': randomUUID() }) },
  { name: 'coder', path: `/v1/sources/coder?token=${TOKEN}`, fixture: 'coder/workspace-deleted.json', auth: () => ({}) },
  { name: 'airbrake', path: `/api/v3/projects/251003/notices?key=${AIRBRAKE_KEY}`, fixture: 'airbrake/notice.json', auth: () => ({}) },
  { name: 'activecollab', path: '/v1/sources/activecollab', fixture: 'activecollab/TaskCompleted.json', auth: () => ({ 'x-angie-webhooksecret': TOKEN }) },
  { name: 'calls', path: `/v1/sources/calls?token=${TOKEN}`, fixture: 'calls/voys-created.json', auth: () => ({}) },
];

describe('webhook routes read their bodies as strictly as /v1/events', () => {
  let world: SourceWorld;
  const send = (route: Route, body: string, headers: Record<string, string>): Promise<Reply> =>
    // A Buffer body, so fetch adds no Content-Type of its own.
    world.request('POST', route.path, Buffer.from(body), { ...route.auth(body), ...headers });

  beforeAll(async () => {
    world = await sourceWorld({
      stripe: { enabled: true, secrets: [STRIPE_SECRET] },
      github: { enabled: true, secrets: [GITHUB_SECRET] },
      gitlab: { enabled: true, tokens: [TOKEN] },
      coder: { enabled: true, tokens: [TOKEN] },
      airbrake: { enabled: true, projects: [{ id: '251003', key: AIRBRAKE_KEY }] },
      activecollab: { enabled: true, secrets: [TOKEN] },
      calls: { enabled: true, tokens: [TOKEN] },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('answers a body in another media type, or in none, with the 415 of /v1/events', async () => {
    const events = await world.request('POST', '/v1/events', '{"type":"bell.test"}', { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/xml' });
    expect(events.status).toBe(415);
    for (const route of ROUTES.filter((r) => r.name !== 'calls' && r.name !== 'github')) {
      const body = fixture(route.fixture);
      for (const type of ['application/xml', 'text/plain', undefined]) {
        const res = await send(route, body, type ? { 'content-type': type } : {});
        expect(res.status, `${route.name} ${type}`).toBe(415);
        expect(res.json, `${route.name} ${type}`).toEqual({ error: 'unsupported_media_type', message: `send the body as JSON with Content-Type: application/json (got ${type ?? 'no Content-Type'})` });
      }
      if (route.name === 'gitlab') expect(events.json).toEqual(await send(route, body, { 'content-type': 'application/xml' }).then((r) => r.json));
    }
    // The two routes that also take a form say so.
    for (const route of ROUTES.filter((r) => r.name === 'calls' || r.name === 'github')) {
      const res = await send(route, fixture(route.fixture), { 'content-type': 'text/plain' });
      expect(res.status, route.name).toBe(415);
      expect(res.json.message, route.name).toMatch(/application\/x-www-form-urlencoded\).*\(got text\/plain\)$/);
    }
    expect(await world.drain()).toEqual([]);
  });

  it('still takes application/json with a charset', async () => {
    const route = ROUTES.find((r) => r.name === 'activecollab')!;
    const res = await send(route, fixture(route.fixture), { 'content-type': 'Application/JSON; charset=utf-8' });
    expect(res.status).toBe(202);
    expect(await world.drain()).toHaveLength(1);
  });

  it('refuses a compressed body on every route with 415', async () => {
    for (const route of ROUTES) {
      const res = await send(route, fixture(route.fixture), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(res.status, route.name).toBe(415);
      expect(res.json.message, route.name).toMatch(/Content-Encoding gzip is not accepted/);
    }
    expect(await world.drain()).toEqual([]);
  });

  it('refuses wrongly typed fields with 400 invalid_payload naming the field', async () => {
    const calls = ROUTES.find((r) => r.name === 'calls')!;
    const airbrake = ROUTES.find((r) => r.name === 'airbrake')!;
    const notice = JSON.parse(fixture('airbrake/notice.json')) as { context: Record<string, unknown> };
    notice.context.environment = [];
    const cases: Array<[Route, string, string]> = [
      [calls, JSON.stringify({ direction: false, number: '+3212345678' }), '/direction'],
      [calls, '{"direction": "incoming", "number": -0}', '/number'],
      [calls, JSON.stringify({ caller: { number: ['+3212345678'] } }), '/caller'],
      [airbrake, JSON.stringify(notice), '/context/environment'],
    ];
    for (const [route, body, field] of cases) {
      const res = await send(route, body, { 'content-type': 'application/json' });
      expect(res.status, body).toBe(400);
      expect(res.json, body).toEqual({ error: 'invalid_payload', message: expect.stringContaining(field) });
    }
    expect(await world.drain()).toEqual([]);
  });

  it('checks a redelivery with a broken body before the delivery log: 400, not "duplicate"', async () => {
    const coder = ROUTES.find((r) => r.name === 'coder')!;
    const m = JSON.parse(fixture(coder.fixture)) as { msg_id: string; payload: Record<string, unknown> };
    m.msg_id = randomUUID();
    expect((await send(coder, JSON.stringify(m), { 'content-type': 'application/json' })).status).toBe(202);
    m.payload.user_email = 42;
    const again = await send(coder, JSON.stringify(m), { 'content-type': 'application/json' });
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ error: 'invalid_payload', message: expect.stringContaining('/payload/user_email') });
    // A string, but too long to be the event's subject: refused too, never answered "duplicate" nor published for subscribers to drop.
    m.payload.user_email = `${'a'.repeat(600)}@example.com`;
    const long = await send(coder, JSON.stringify(m), { 'content-type': 'application/json' });
    expect(long.status).toBe(400);
    expect(long.json).toEqual({ error: 'invalid_payload', message: expect.stringContaining('/payload/user_email') });
    expect(await world.drain()).toHaveLength(1);
  });

  it('refuses a body nested past the JSON limit with 400, on the webhook routes too', async () => {
    const route = ROUTES.find((r) => r.name === 'activecollab')!;
    const deep = `{"type":"TaskCompleted","payload":{"id":1,"class":"Task","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    const res = await send(route, deep, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'bad_json', message: expect.stringContaining('nested deeper than') });
    expect(await world.drain()).toEqual([]);
  });
});
