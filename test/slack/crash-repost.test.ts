// Exactly once to the eye across a crash. The sink runs as its own process (`bellhop slack`)
// and is SIGKILLed at the instant the fake Slack has stored its post, before the answer is
// sent, so its outbox never records that Slack took the job. A sink restarted on the same
// data folder and MQTT session must find that post in Slack (by the job key in its message
// metadata) instead of posting it again. Persistent sessions behave differently enough
// between brokers that this file also runs against Mosquitto (BELLHOP_TEST_BROKER=mosquitto).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Topics } from '../../shared/topics.js';
import type { RangReport } from '../../shared/messages.js';
import { ALL_SCOPES, BOT_TOKEN, type FakeMessage, type FakeSlackOptions } from '../fake-slack/server.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { captureLogger } from '../helpers/world.js';
import { blockText, lookupCalls, slackWorld, timesPosted, type SlackWorld, waitForSlack } from './helpers.js';

let world: SlackWorld | undefined;
const children: CliProcess[] = [];
afterEach(async () => {
  for (const p of children.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  await world?.close();
  world = undefined;
});

/** A world whose sink is first a child process, with the same Slack settings as an in-process restart gets. */
async function crashWorld(slack: Record<string, unknown> = {}, fake: FakeSlackOptions = {}): Promise<SlackWorld> {
  world = await slackWorld(slack, fake);
  return world;
}

async function startChild(w: SlackWorld): Promise<CliProcess> {
  const { routes, defaultChannel, limiter, retry, digest, threads, requestTimeoutMs } = w.config.slack;
  const file = join(w.config.dataDir, 'bellhop.yaml');
  const settings = { routes, limiter, retry, digest, threads, requestTimeoutMs, ...(defaultChannel ? { defaultChannel } : {}) };
  writeFileSync(file, stringify({ slack: settings }));
  const child = runCli(['-c', file, 'slack'], {
    BELLHOP_MQTT_URL: w.broker.url,
    BELLHOP_DATA_DIR: w.config.dataDir,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: w.fake.apiUrl,
  });
  children.push(child);
  await child.waitForOutput(/bellhop slack subscribed via/);
  return child;
}

/** SIGKILLs the child once Slack has stored a message matching `which`, before Slack answers. */
function killWhenStored(w: SlackWorld, child: CliProcess, which: (m: FakeMessage) => boolean): Promise<FakeMessage> {
  return new Promise((resolve) => {
    w.fake.afterPost = async (m) => {
      if (!which(m)) return;
      w.fake.afterPost = undefined;
      child.child.kill('SIGKILL');
      await child.exited;
      resolve(m);
    };
  });
}

function mentions(needle: string): (m: FakeMessage) => boolean {
  return (m) => m.text.includes(needle);
}

function statuses(w: SlackWorld, eventId: string): string[] {
  return w.reports.filter((r) => r.eventId === eventId).map((r) => r.status);
}

/** The conversations.history / .replies calls that looked for a post (not the sink's check of a channel's history). */
function lookups(w: SlackWorld, method = 'conversations.history') {
  return lookupCalls(w.fake, method);
}

async function ring(w: SlackWorld, eventId: string, deviceId = 'desk-bell'): Promise<void> {
  const rang: RangReport = { eventId, deviceId, type: 'user.signup', strikes: 1, at: new Date().toISOString() };
  await w.publisher.publishAsync(new Topics(w.config.mqtt.topicPrefix).device(deviceId, 'rang'), JSON.stringify(rang), { qos: 1 });
}

describe('a sink killed after Slack took a post but before its outbox recorded it', () => {
  it('does not post it again after the restart, and updates that message when the bell rings', async () => {
    const w = await crashWorld();
    const child = await startChild(w);
    await w.publish({ id: 'warm', type: 'user.signup', subject: '[warm]' });
    await waitForSlack(w, () => timesPosted(w.fake, '[warm]') === 1, 'the first post');
    const killed = killWhenStored(w, child, mentions('[crash-me]'));
    await w.publish({ id: 'crash-me', type: 'user.signup', subject: '[crash-me]' });
    const stored = await killed;

    await w.startSink();
    await waitForSlack(w, () => statuses(w, 'crash-me').includes('posted'), 'the restarted sink to settle the post');
    expect(timesPosted(w.fake, '[crash-me]')).toBe(1);
    expect(w.reports.find((r) => r.eventId === 'crash-me')).toMatchObject({ status: 'posted', channel: stored.channel, ts: stored.ts });
    expect(lookups(w).map((c) => c.args.channel)).toEqual([stored.channel]);
    expect(stored.metadata).toMatchObject({ event_type: 'bellhop_post', event_payload: { job: expect.stringMatching(/^[\w-]+:\d+$/) as unknown } });

    await ring(w, 'crash-me');
    await waitForSlack(w, () => stored.updates.length > 0, 'the chat.update of the message found');
    expect(stored.text).toContain('rang desk-bell');
    expect(timesPosted(w.fake, '[crash-me]')).toBe(1);
    await waitForSlack(w, () => w.sinkPending() === 0, 'an empty outbox');
  });

  it('finds it also when it was the first post to that channel (the channel id comes from users.conversations)', async () => {
    const w = await crashWorld({ routes: [{ match: { type: 'user.*' }, channel: '#fresh' }] });
    const child = await startChild(w);
    const killed = killWhenStored(w, child, mentions('[first]'));
    await w.publish({ id: 'first', type: 'user.signup', subject: '[first]' });
    const stored = await killed;

    await w.startSink();
    await waitForSlack(w, () => statuses(w, 'first').includes('posted'), 'the post settled');
    expect(timesPosted(w.fake, '[first]')).toBe(1);
    expect(w.fake.callsTo('users.conversations').length).toBeGreaterThan(0);
    expect(lookups(w).map((c) => c.args.channel)).toEqual([stored.channel]);
  });

  it('finds a direct message in the DM (its id from conversations.open)', async () => {
    const w = await crashWorld({ routes: [{ match: { type: 'notification.*' }, dm: '{data.user_email}' }] }, { users: { 'dana@example.com': 'U0DANA' } });
    const child = await startChild(w);
    const killed = killWhenStored(w, child, mentions('[dm]'));
    await w.publish({ id: 'dm', type: 'notification.sent', subject: '[dm]', data: { user_email: 'dana@example.com' } });
    const stored = await killed;

    await w.startSink();
    await waitForSlack(w, () => statuses(w, 'dm').includes('posted'), 'the DM settled');
    expect(timesPosted(w.fake, '[dm]')).toBe(1);
    expect(stored.channel).toBe('D0DANA');
    expect(w.fake.callsTo('conversations.open').map((c) => c.args.users)).toEqual(['U0DANA']);
    expect(lookups(w).map((c) => c.args.channel)).toEqual(['D0DANA']);
  });

  it('finds a reply in its thread (conversations.replies) and still counts the repeat on the first message', async () => {
    const w = await crashWorld();
    const child = await startChild(w);
    const error = { type: 'error.raised', severity: 'error' as const, subject: 'DB down', data: { fingerprint: 'db-down' } };
    await w.publish({ id: 'err-1', ...error });
    await waitForSlack(w, () => w.fake.posts('#events').length === 1, 'the first error');
    const killed = killWhenStored(w, child, (m) => m.threadTs !== undefined);
    await w.publish({ id: 'err-2', ...error });
    const reply = await killed;

    await w.startSink();
    await waitForSlack(w, () => statuses(w, 'err-2').includes('threaded'), 'the reply settled');
    const [root] = w.fake.posts('#events');
    expect(w.fake.replies(root!)).toEqual([reply]);
    expect(lookups(w, 'conversations.replies').map((c) => [c.args.channel, c.args.ts])).toEqual([[root!.channel, root!.ts]]);
    await waitForSlack(w, () => blockText(root!.blocks).includes('seen 2 times'), 'the count on the first message');
  });

  it('finds a digest and reports its events digested, once', async () => {
    const w = await crashWorld({ digest: { threshold: 1, windowMs: 400 } });
    const child = await startChild(w);
    const killed = killWhenStored(w, child, mentions('in the last'));
    for (const id of ['d-1', 'd-2', 'd-3']) await w.publish({ id, type: 'user.signup', subject: `[${id}]` });
    const digest = await killed;
    expect(digest.text).not.toContain('[d-1]');

    await w.startSink();
    await waitForSlack(w, () => statuses(w, 'd-2').includes('digested') && statuses(w, 'd-3').includes('digested'), 'the digest settled');
    expect(w.fake.posts('#events')).toHaveLength(2);
    for (const id of ['d-1', 'd-2', 'd-3']) expect(w.fake.messages.filter((m) => blockText(m.blocks).includes(`[${id}]`)), id).toHaveLength(1);
  });
});

describe('when the sink cannot look in Slack', () => {
  it('posts again once and warns once per channel, naming the scope it lacks', async () => {
    const w = await crashWorld({}, { scopes: ALL_SCOPES.filter((s) => s !== 'channels:history') });
    const child = await startChild(w);
    await w.publish({ id: 'warm', type: 'user.signup', subject: '[warm]' });
    await waitForSlack(w, () => timesPosted(w.fake, '[warm]') === 1, 'the first post');
    const killed = killWhenStored(w, child, mentions('[twice]'));
    await w.publish({ id: 'twice', type: 'user.signup', subject: '[twice]' });
    await killed;

    const { logger, lines } = captureLogger('info');
    await w.startSink({ logger });
    await waitForSlack(w, () => statuses(w, 'twice').includes('posted'), 'the post again');
    expect(timesPosted(w.fake, '[twice]')).toBe(2);
    expect(lookups(w).map((c) => c.outcome)).toEqual(['missing_scope']);

    // A post whose connection drops before Slack stores it is retried after another failed lookup: no second warning.
    let dropped = false;
    w.fake.beforePost = (args) => {
      if (dropped || !String(args.text).includes('[dropped]')) return;
      dropped = true;
      return { drop: true };
    };
    await w.publish({ id: 'dropped', type: 'user.signup', subject: '[dropped]' });
    await waitForSlack(w, () => statuses(w, 'dropped').includes('posted'), 'the dropped post retried');
    expect(timesPosted(w.fake, '[dropped]')).toBe(1);
    expect(lookups(w).map((c) => c.outcome)).toEqual(['missing_scope', 'missing_scope']);
    const warnings = lines().filter((l) => l.level === 40 && String(l.msg).startsWith('cannot look in Slack'));
    expect(warnings).toEqual([expect.objectContaining({ channel: w.fake.posts('#events')[0]!.channel, error: 'missing_scope', neededScope: 'channels:history', eventId: 'twice' })]);
  });
});

describe('a post that was attempted but never reached Slack', () => {
  it('is posted once after the restart', async () => {
    const w = await crashWorld();
    const child = await startChild(w);
    await w.publish({ id: 'warm', type: 'user.signup', subject: '[warm]' });
    await waitForSlack(w, () => timesPosted(w.fake, '[warm]') === 1, 'the first post');
    // Slack fails the request before storing anything, and the sink dies before it hears so.
    const failed = new Promise<void>((resolve) => {
      w.fake.beforePost = async (args) => {
        if (!String(args.text).includes('[never]')) return;
        w.fake.beforePost = undefined;
        child.child.kill('SIGKILL');
        await child.exited;
        resolve();
        return { drop: true };
      };
    });
    await w.publish({ id: 'never', type: 'user.signup', subject: '[never]' });
    await failed;
    expect(timesPosted(w.fake, '[never]')).toBe(0);

    await w.startSink();
    await waitForSlack(w, () => statuses(w, 'never').includes('posted'), 'the post after the restart');
    expect(timesPosted(w.fake, '[never]')).toBe(1);
    // It was looked for first (it had been attempted), and not found.
    expect(lookups(w).map((c) => c.outcome)).toEqual(['ok']);
  });
});

describe('a post whose answer from Slack was lost (the sink keeps running)', () => {
  for (const [name, fault] of [
    ['a 500', { status: 500 as const }],
    ['a dropped connection', { drop: true as const }],
  ] as const) {
    it(`is found on the retry after ${name}, not posted twice`, async () => {
      const w = await crashWorld();
      let failed = false;
      w.fake.afterPost = (m) => {
        if (failed || !m.text.includes('[lost-answer]')) return;
        failed = true;
        return fault;
      };
      await w.startSink();
      await w.publish({ id: 'lost-answer', type: 'user.signup', subject: '[lost-answer]' });
      await waitForSlack(w, () => statuses(w, 'lost-answer').includes('posted'), 'the post settled');
      expect(timesPosted(w.fake, '[lost-answer]')).toBe(1);
      expect(statuses(w, 'lost-answer')).toEqual(['retrying', 'posted']);
      expect(lookups(w)).toHaveLength(1);
    });
  }

  it('posts without a lookup after a failure that says Slack did not take it (429)', async () => {
    const w = await crashWorld();
    w.fake.failNext('chat.postMessage', { status: 429, retryAfter: 0 });
    await w.startSink();
    await w.publish({ id: 'limited', type: 'user.signup', subject: '[limited]' });
    await waitForSlack(w, () => statuses(w, 'limited').includes('posted'), 'the post');
    expect(timesPosted(w.fake, '[limited]')).toBe(1);
    expect(lookups(w)).toHaveLength(0);
  });
});
