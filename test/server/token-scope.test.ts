// A read-only token (a screen in the office showing the status page) can look, never ring.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerPart } from '../../broker/broker.js';
import type { ServerPart } from '../../server/server.js';
import { TEST_TOKEN, postEvents, startBroker, startServer, testConfig, withBroker } from '../helpers/world.js';

const VIEWER = 'viewer-token-0123456789';

describe('token scopes', () => {
  let broker: BrokerPart;
  let server: ServerPart;
  beforeAll(async () => {
    const base = testConfig({ server: { tokens: [{ name: 'test', token: TEST_TOKEN }, { name: 'office-screen', token: VIEWER, scope: 'read' }] } });
    broker = await startBroker(base);
    server = await startServer(withBroker(base, broker.url));
  });
  afterAll(async () => {
    await server.stop();
    await broker.stop();
  });

  it('refuses a read token on POST /v1/events with 403 read_only_token, and takes a write token', async () => {
    const refused = await postEvents(server.url, { type: 'user.signup' }, { authorization: `Bearer ${VIEWER}` });
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({
      error: 'read_only_token',
      message: 'token "office-screen" may only read (scope: read): posting events, ringing and muting need a token with scope: write',
    });
    const taken = await postEvents(server.url, { type: 'user.signup' });
    expect(taken.status).toBe(202);
  });

  it('lets a read token see the status API and its live stream, never ring or mute', async () => {
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    expect((await fetch(`${server.url}/v1/devices`, { headers: as(VIEWER) })).status).toBe(200);
    expect((await fetch(`${server.url}/v1/events/recent`, { headers: as(VIEWER) })).status).toBe(200);
    const stream = new AbortController();
    const live = await fetch(`${server.url}/v1/status/stream`, { headers: as(VIEWER), signal: stream.signal });
    expect(live.status).toBe(200);
    stream.abort();
    const writes: Array<[string, string, string?]> = [
      ['POST', '/v1/devices/all/ring'],
      ['POST', '/v1/devices/all/mute', JSON.stringify({ minutes: 60 })],
      ['DELETE', '/v1/devices/all/mute'],
    ];
    for (const [method, path, body] of writes) {
      const res = await fetch(`${server.url}${path}`, { method, headers: { ...as(VIEWER), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe('read_only_token');
    }
    // The write token may mute (all always exists).
    const muted = await fetch(`${server.url}/v1/devices/all/mute`, { method: 'POST', headers: { ...as(TEST_TOKEN), 'content-type': 'application/json' }, body: JSON.stringify({ minutes: 1 }) });
    expect(muted.status).toBe(200);
  });
});
