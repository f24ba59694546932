import { afterEach, describe, expect, it } from 'vitest';
import { APP_TOKEN, BOT_TOKEN } from '../fake-slack/server.js';
import { captureLogger, waitFor } from '../helpers/world.js';
import { slackWorld, type SlackWorld } from './helpers.js';
import { ask, cleanUp, world as socketWorld } from './socket-helpers.js';

let world: SlackWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
  await cleanUp();
});

describe('Slack tokens in the logs', () => {
  it('are blanked wherever a config or a part logs them', () => {
    const { logger, text } = captureLogger('trace');
    logger.info({ config: { slack: { botToken: BOT_TOKEN, appToken: APP_TOKEN, mqtt: { password: 'mqtt-secret-1' } } } }, 'config');
    logger.info({ slack: { botToken: BOT_TOKEN, appToken: APP_TOKEN } }, 'section');
    logger.info({ botToken: BOT_TOKEN }, 'bare');
    expect(text()).not.toContain(BOT_TOKEN);
    expect(text()).not.toContain(APP_TOKEN);
    expect(text()).not.toContain('mqtt-secret-1');
    expect(text()).toContain('[redacted]');
  });

  it('never appear, even at trace level, while the sink posts through the real client', async () => {
    world = await slackWorld();
    const { logger, text } = captureLogger('trace');
    await world.startSink({ logger });
    await world.publish({ id: 'traced', type: 'user.signup' });
    await waitFor(() => world!.reports.some((r) => r.eventId === 'traced' && r.status === 'posted'), { what: 'the post' });
    expect(text()).toContain('chat.postMessage');
    expect(text()).not.toContain(BOT_TOKEN);
  });

  it('never show the app token, even at trace level, while /ding connects and answers', async () => {
    const { logger, text } = captureLogger('trace');
    const { fake } = await socketWorld({}, { logger });
    await fake.slashCommand({ text: 'status' });
    await ask(fake, 'kitchen-bell');
    expect(text()).toContain('apps.connections.open');
    expect(text()).not.toContain(APP_TOKEN);
  });
});
