import { afterEach, describe, expect, it } from 'vitest';
import { ServerPart } from '../../server/server.js';
import { captureLogger, silentLogger, waitFor } from '../helpers/world.js';
import { ask, bell, cleanUp, cleanups, knows, world } from './socket-helpers.js';

// Also against a real Mosquitto (BELLHOP_TEST_BROKER=mosquitto, see vitest.config.ts).
afterEach(cleanUp);

describe('the Socket Mode connection', () => {
  it('keeps /ding working after Slack asks for a refresh', async () => {
    const { logger, lines } = captureLogger('info');
    const { fake, config, app } = await world({}, { logger });
    await bell(config);
    await knows(fake, 'office-bell', 'online');
    fake.refresh();
    await fake.waitForHellos(2);
    await waitFor(() => app.connections === 2 && app.connected, { what: 'the new connection' });
    const { answer } = await ask(fake, 'office-bell');
    expect(answer).toContain('*office-bell* rang');
    expect(lines().some((l) => l.reason === 'refresh_requested' && String(l.msg).includes('Slack asked for a new connection'))).toBe(true);
  });

  it('keeps /ding working after the socket drops, and shows the state in /readyz', async () => {
    const { fake, config, app } = await world();
    await bell(config);
    const server = new ServerPart({ config, tokens: config.server.tokens, logger: silentLogger(), connectWaitMs: 3000 });
    server.addReadinessCheck('slackSocket', () => app.connected);
    await server.start();
    cleanups.push(() => server.stop());
    const readyz = async () => (await fetch(`${server.url}/readyz`)).json() as Promise<{ checks: Record<string, boolean> }>;
    expect((await readyz()).checks.slackSocket).toBe(true);

    // Slack refuses new connections for a while, then the socket drops.
    fake.failNext('apps.connections.open', { status: 503 }, 3);
    fake.dropSockets();
    await waitFor(async () => (await readyz()).checks.slackSocket === false, { what: '/readyz to show the lost connection' });
    await fake.waitForHellos(2);
    await waitFor(async () => (await readyz()).checks.slackSocket === true, { what: '/readyz to show it back' });
    expect(fake.callsTo('apps.connections.open').filter((c) => c.outcome === 'HTTP 503')).toHaveLength(3);
    const { answer } = await ask(fake, 'office-bell');
    expect(answer).toContain('*office-bell* rang');
  });

  it('gives up on a connection that never says hello and tries a new one', async () => {
    const { fake, config, app } = await world({ socket: { reconnectMs: 20, pingTimeoutMs: 1000, connectTimeoutMs: 300 } });
    await bell(config);
    fake.sendHello = false;
    const opened = fake.socketsOpened;
    fake.dropSockets();
    await waitFor(() => fake.socketsOpened >= opened + 2, { what: 'a second try after a silent connection' });
    expect(app.connected).toBe(false);
    fake.sendHello = true;
    await waitFor(() => app.connected, { what: 'a connection with a hello' });
    const { answer } = await ask(fake, 'office-bell');
    expect(answer).toContain('*office-bell* rang');
  });

  it('does not leave a connection or timer running after stop', async () => {
    const { fake, app } = await world();
    await app.stop();
    await waitFor(() => fake.openSockets === 0, { what: 'the socket to close' });
    expect(app.state).toBe('stopped');
    expect(app.connected).toBe(false);
  });
});

