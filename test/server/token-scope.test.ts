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
});
