import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceWorld, type SourceWorld } from './world.js';

const APP = 'https://app.example.com';

/** What navigator.sendBeacon(url, JSON.stringify(...)) sends: a text/plain body and the page's Origin. */
function beacon(world: SourceWorld, body: unknown, origin: string | null = APP) {
  const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8' };
  if (origin !== null) headers.origin = origin;
  return world.request('POST', '/v1/beacon', typeof body === 'string' ? body : JSON.stringify(body), headers);
}

describe('browser beacon source', () => {
  let world: SourceWorld;

  beforeAll(async () => {
    world = await sourceWorld({
      beacon: {
        enabled: true,
        origins: [APP, 'https://*.example.org'],
        types: ['beacon.received', 'signup.clicked'],
        ratePerMinute: 1000,
        bodyLimit: 512,
        project: 'web',
      },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('publishes an allowlisted beacon from an allowed origin and answers with CORS headers', async () => {
    const res = await beacon(world, { type: 'signup.clicked', data: { plan: 'pro', page: '/pricing' }, subject: 'pricing-page' });
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('vary')).toMatch(/Origin/);
    expect(await world.drain()).toMatchObject([
      { type: 'signup.clicked', source: 'beacon/app.example.com', severity: 'info', subject: 'pricing-page', project: 'web', data: { plan: 'pro', page: '/pricing', origin: APP } },
    ]);
  });

  it('answers the CORS preflight for an allowed origin, and refuses it for others', async () => {
    const ok = await world.request('OPTIONS', '/v1/beacon', undefined, { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    expect(ok.headers.get('access-control-allow-headers')).toBe('content-type');
    const evil = await world.request('OPTIONS', '/v1/beacon', undefined, { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses other origins and requests without an Origin with 403, publishing nothing', async () => {
    const evil = await beacon(world, { type: 'beacon.received' }, 'https://evil.example.net');
    expect(evil.status).toBe(403);
    expect(evil.json).toEqual({ error: 'forbidden_origin', message: expect.stringContaining('https://evil.example.net') });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect((await beacon(world, { type: 'beacon.received' }, null)).status).toBe(403);
    expect(await world.drain()).toEqual([]);
  });

  it('matches a wildcard origin on subdomains only', async () => {
    expect((await beacon(world, { type: 'beacon.received' }, 'https://shop.example.org')).status).toBe(202);
    expect((await beacon(world, { type: 'beacon.received' }, 'https://a.b.example.org')).status).toBe(202);
    expect((await beacon(world, { type: 'beacon.received' }, 'https://example.org')).status).toBe(403);
    expect((await beacon(world, { type: 'beacon.received' }, 'https://evilexample.org')).status).toBe(403);
    expect((await beacon(world, { type: 'beacon.received' }, 'http://shop.example.org')).status).toBe(403);
    expect(await world.drain()).toHaveLength(2);
  });

  it('answers a type outside the allowlist with 200 "ignored", publishing nothing', async () => {
    const res = await beacon(world, { type: 'payment.succeeded', data: { amount: 1_000_000 } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ignored', reason: expect.stringContaining('sources.beacon.types') });
    expect(await world.drain()).toEqual([]);
  });

  it('never lets a beacon claim more than info severity, nor extra fields', async () => {
    const res = await beacon(world, { type: 'beacon.received', severity: 'critical' });
    expect(res.status).toBe(400);
    expect(await world.drain()).toEqual([]);
  });

  it('answers a malformed beacon with 400 and a large one with 413', async () => {
    expect((await beacon(world, '{"type":')).status).toBe(400);
    expect((await beacon(world, { data: {} })).status).toBe(400);
    const big = await beacon(world, { type: 'beacon.received', data: { blob: 'x'.repeat(600) } });
    expect(big.status).toBe(413);
    expect(await world.drain()).toEqual([]);
  });

  it('publishes a beacon the page sends twice with the same id once', async () => {
    const id = randomUUID();
    expect((await beacon(world, { type: 'beacon.received', id })).status).toBe(202);
    const again = await beacon(world, { type: 'beacon.received', id });
    expect(again.status).toBe(200);
    expect(again.json.status).toBe('duplicate');
    expect(await world.drain()).toHaveLength(1);
  });
});

describe('browser beacon rate limit', () => {
  let world: SourceWorld;

  beforeAll(async () => {
    world = await sourceWorld({ beacon: { enabled: true, origins: [APP], ratePerMinute: 3 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('answers 429 with Retry-After once a client exceeds its beacons per minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await beacon(world, { type: 'beacon.received' })).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    const limited = await beacon(world, { type: 'beacon.received' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('access-control-allow-origin')).toBe(APP);
    expect(await world.drain()).toHaveLength(3);
  });
});
