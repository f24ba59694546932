// A bot token Slack refuses (revoked, workspace gone) costs no event: the sink says once
// what to fix, holds every delivery instead of failing each, publishes its health retained
// for the status page, and delivers what it kept once Slack takes the token again.
import { afterEach, describe, expect, it } from 'vitest';
import { parseSlackHealth, type SlackHealth } from '../../shared/messages.js';
import { Topics } from '../../shared/topics.js';
import { captureLogger, connectClient, waitFor } from '../helpers/world.js';
import { slackWorld, waitForSlack, type SlackWorld } from './helpers.js';

let world: SlackWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const posts = (w: SlackWorld) => w.fake.calls.filter((c) => c.method === 'chat.postMessage');

describe('a bot token Slack refuses', () => {
  it('holds every delivery, says the fix once, and delivers what it kept when the token works again', async () => {
    const w = (world = await slackWorld());
    const log = captureLogger('info');
    const sink = await w.startSink({ logger: log.logger, tokenRecheck: { baseMs: 100, maxMs: 200 } });
    const health: SlackHealth[] = [];
    sink.on('health', (h) => health.push(h));
    await waitFor(() => sink.health.state === 'ok', { what: 'the start auth.test' });
    await w.publish({ id: 'before', type: 'user.signup', data: { email: 'a@example.com' } });
    await waitForSlack(w, () => w.fake.messages.length === 1, 'the first post');
    // The read of #events after its first post says exactly-once is whole: a change of health too.
    await waitFor(() => sink.health.exactlyOnce === 'ok', { what: 'the check of the channel history' });
    health.length = 0;

    w.fake.outage({ error: 'token_revoked' });
    for (const id of ['held-1', 'held-2', 'held-3']) await w.publish({ id, type: 'user.signup', data: { email: `${id}@example.com` } });
    await waitFor(() => sink.health.state === 'token_refused', { what: 'the refusal to be noticed' });
    expect(sink.health).toMatchObject({ state: 'token_refused', reason: 'token_revoked', fix: expect.stringContaining('SLACK_BOT_TOKEN') });
    await waitFor(() => w.reports.filter((r) => r.status === 'retrying').length === 3, { what: 'a retrying report per held event' });
    for (const r of w.reports.filter((x) => x.status === 'retrying')) expect(r.error).toBe('Slack refused the bot token (token_revoked)');
    // Let a few rechecks pass: they ask auth.test, never post.
    await waitFor(() => w.fake.calls.filter((c) => c.method === 'auth.test').length >= 3, { what: 'auth.test rechecks' });
    const attempts = posts(w).length;
    expect(attempts).toBe(2); // the first post, and the one that learnt of the refusal
    expect(w.sinkPending()).toBe(3);
    const said = log.lines().filter((l) => l.level === 50 && String(l.msg).startsWith('Slack refused the bot token'));
    expect(said).toHaveLength(1);
    expect(said[0]!.msg).toContain('token_revoked');

    w.fake.outage(undefined);
    await waitForSlack(w, () => w.reports.filter((r) => r.status === 'posted').length === 4, 'the held events, once Slack takes the token');
    expect(w.fake.messages).toHaveLength(4);
    const posted = w.reports.filter((r) => r.status === 'posted').map((r) => r.eventId);
    expect(posted.sort()).toEqual(['before', 'held-1', 'held-2', 'held-3']);
    expect(sink.health.state).toBe('ok');
    expect(health.map((h) => h.state)).toEqual(['token_refused', 'ok']);
  });

  it('is refused from the first auth.test: nothing is posted and the refusal is retained on slack/health', async () => {
    const w = (world = await slackWorld());
    w.fake.outage({ error: 'invalid_auth' });
    const sink = await w.startSink({ tokenRecheck: { baseMs: 5000, maxMs: 5000 } });
    await waitFor(() => sink.health.state === 'token_refused', { what: 'the start auth.test to fail' });
    await w.publish({ id: 'kept', type: 'user.signup', data: { email: 'k@example.com' } });
    await waitFor(() => w.sinkPending() === 1, { what: 'the event in the outbox' });
    expect(posts(w)).toHaveLength(0);

    // A status page that connects later still learns it: the health is retained.
    const topics = new Topics(w.config.mqtt.topicPrefix);
    const reader = await connectClient(w.broker.url);
    try {
      let retained: SlackHealth | undefined;
      let first: boolean | undefined;
      reader.on('message', (_t, payload, packet) => {
        first ??= packet.retain;
        retained = parseSlackHealth(payload);
      });
      await reader.subscribeAsync(topics.slackHealth(), { qos: 1 });
      // It also counts what waits in the outbox, a second after the count changed.
      await waitFor(() => retained?.pending === 1, { what: 'the retained health with the waiting event' });
      expect(first).toBe(true);
      expect(retained).toMatchObject({ state: 'token_refused', reason: 'invalid_auth', fix: expect.stringContaining('SLACK_BOT_TOKEN') });
    } finally {
      await reader.endAsync();
    }
  });
});
