// The sink says in its health (retained on <prefix>/slack/health) whether exactly-once holds:
// it reads each channel's history once after this run's first post there, and learns from
// every lookup, so a missing *:history scope or a channel the bot is not in shows as
// `exactlyOnce: degraded` with what Slack refused before a crash turns it into a duplicate.
// Also against a real Mosquitto (BELLHOP_TEST_BROKER=mosquitto, see vitest.config.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { parseSlackHealth, type SlackHealth } from '../../shared/messages.js';
import { Topics } from '../../shared/topics.js';
import { ALL_SCOPES } from '../fake-slack/server.js';
import { captureLogger, connectClient, waitFor } from '../helpers/world.js';
import { isReadCheck, shiftedClock, slackWorld, type SlackWorld, waitForSlack } from './helpers.js';

let world: SlackWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const ROUTES = ['#a', '#b'].map((channel) => ({ match: { data: { channel } }, channel }));

async function post(w: SlackWorld, id: string, channel = '#a'): Promise<void> {
  await w.publish({ id, type: 'user.signup', subject: `[${id}]`, data: { channel } });
  await waitForSlack(w, () => w.reports.some((r) => r.eventId === id && r.status === 'posted'), `${id} posted`);
}

/** The health a status page connecting now would be given (retained). */
async function retainedHealth(w: SlackWorld, until: (h: SlackHealth) => boolean): Promise<SlackHealth> {
  const reader = await connectClient(w.broker.url);
  try {
    let latest: SlackHealth | undefined;
    reader.on('message', (_t, payload) => (latest = parseSlackHealth(payload) ?? latest));
    await reader.subscribeAsync(new Topics(w.config.mqtt.topicPrefix).slackHealth(), { qos: 1 });
    return await waitFor(() => (latest && until(latest) ? latest : undefined), { what: 'the retained Slack health' });
  } finally {
    await reader.endAsync();
  }
}

describe('the exactly-once state in the Slack health', () => {
  it('is degraded, naming the missing scope and the fix, when the token cannot read the channel', async () => {
    const w = (world = await slackWorld({ routes: ROUTES }, { scopes: ALL_SCOPES.filter((s) => s !== 'channels:history') }));
    const { logger, lines } = captureLogger('info');
    const sink = await w.startSink({ logger });
    expect(sink.health.exactlyOnce).toBeUndefined();
    await post(w, 'first');
    await waitFor(() => sink.health.exactlyOnce === 'degraded', { what: 'the check of #a' });
    const expected = {
      state: 'ok',
      exactlyOnce: 'degraded',
      degradedReason: 'missing_scope: channels:history',
      degradedFix: 'add the scope channels:history under OAuth & Permissions > Bot Token Scopes and reinstall the app',
    };
    expect(sink.health).toMatchObject(expected);
    expect(await retainedHealth(w, (h) => h.exactlyOnce !== undefined)).toMatchObject(expected);
    // One read of the channel, of the post's own second; none for the next post there.
    await post(w, 'second');
    expect(w.fake.callsTo('conversations.history').map((c) => [isReadCheck(c), c.outcome])).toEqual([[true, 'missing_scope']]);
    const said = lines().filter((l) => String(l.msg).startsWith('exactly-once is degraded'));
    expect(said).toEqual([expect.objectContaining({ level: 40, degradedReason: 'missing_scope: channels:history' })]);
  });

  it('is ok when the token can read every channel it posts to', async () => {
    const w = (world = await slackWorld({ routes: ROUTES }));
    const sink = await w.startSink();
    await post(w, 'a', '#a');
    await waitFor(() => sink.health.exactlyOnce === 'ok', { what: 'the check of #a' });
    expect(sink.health.degradedReason).toBeUndefined();
    expect(await retainedHealth(w, (h) => h.exactlyOnce !== undefined)).toMatchObject({ state: 'ok', exactlyOnce: 'ok' });
  });

  it('names a channel the bot is not in, and becomes ok again once it can read there', async () => {
    const clock = shiftedClock();
    const w = (world = await slackWorld({ routes: ROUTES }, { scopes: [...ALL_SCOPES, 'chat:write.public'] }));
    const { logger, lines } = captureLogger('info');
    const sink = await w.startSink({ logger, clock });
    await post(w, 'b', '#b');
    await waitFor(() => sink.health.exactlyOnce === 'ok', { what: 'the check of #b' });
    // The bot was never invited to #a: chat:write.public lets it post there, not read.
    w.fake.leave('#a');
    // Checks are spaced (history calls are rate-limited): the next one may come a second later.
    clock.shift(2000);
    await post(w, 'a-1', '#a');
    await waitFor(() => sink.health.exactlyOnce === 'degraded', { what: 'the check of #a' });
    expect(sink.health).toMatchObject({ degradedReason: 'not_in_channel: #a', degradedFix: 'invite the bot to #a' });

    // A lookup that works there again (the bot was invited) makes it whole once more; a refused
    // channel is read again at a post after ten minutes.
    w.fake.join('#a');
    clock.shift(11 * 60_000);
    await post(w, 'a-2', '#a');
    await waitFor(() => sink.health.exactlyOnce === 'ok', { what: 'the second check of #a' });
    expect(sink.health.degradedReason).toBeUndefined();
    expect(lines().some((l) => String(l.msg).startsWith('exactly-once is whole again'))).toBe(true);
  });

  it('learns from a lookup too: a post whose answer was lost, in a channel the bot cannot read', async () => {
    const scopes = ALL_SCOPES.filter((s) => s !== 'channels:history');
    const w = (world = await slackWorld({}, { scopes }));
    let lost = false;
    w.fake.afterPost = (m) => {
      if (lost || !m.text.includes('[lost]')) return;
      lost = true;
      return { status: 500 };
    };
    const sink = await w.startSink();
    await post(w, 'lost');
    // The lookup before the retry was refused; no check of the channel was needed after it.
    expect(w.fake.callsTo('conversations.history').map((c) => [isReadCheck(c), c.outcome])).toEqual([[false, 'missing_scope']]);
    expect(sink.health).toMatchObject({ exactlyOnce: 'degraded', degradedReason: 'missing_scope: channels:history' });
  });
});
