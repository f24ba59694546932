// When the sink cannot trust its lookup for a post that may already be in Slack (the bot is
// not in the channel, or the search stops at its page limit), it falls back to at-least-once:
// it warns once for that channel and posts again, once. The posts here get "lost answers"
// (Slack stores the message, then answers 500), so the retry in the same process must look
// first, exactly as a restart after a crash does (the lookup code is the same).
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_SCOPES } from '../fake-slack/server.js';
import { captureLogger } from '../helpers/world.js';
import { lookupCalls, slackWorld, timesPosted, type SlackWorld, waitForSlack } from './helpers.js';

let world: SlackWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const ROUTES = ['#a', '#b'].map((channel) => ({ match: { data: { channel } }, channel }));

function statuses(w: SlackWorld, eventId: string): string[] {
  return w.reports.filter((r) => r.eventId === eventId).map((r) => r.status);
}

/** The lookups of posts (not the sink's check of a channel's history), as [channel, outcome]. */
function lookups(w: SlackWorld): Array<[unknown, string]> {
  return lookupCalls(w.fake).map((c) => [c.args.channel, c.outcome]);
}

function lookupWarnings(lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return lines.filter((l) => l.level === 40 && String(l.msg).startsWith('cannot look in Slack'));
}

/** Slack stores the first post mentioning each of `ids`, then answers 500 (the outcome is unknown to the sink). */
function loseFirstAnswers(w: SlackWorld, ids: string[], also?: (id: string) => void): void {
  const lost = new Set<string>();
  w.fake.afterPost = (m) => {
    const id = ids.find((i) => m.text.includes(`[${i}]`));
    if (id === undefined || lost.has(id)) return;
    lost.add(id);
    also?.(id);
    return { status: 500 };
  };
}

async function post(w: SlackWorld, id: string, channel: string): Promise<void> {
  await w.publish({ id, type: 'user.signup', subject: `[${id}]`, data: { channel } });
  await waitForSlack(w, () => statuses(w, id).includes('posted'), `${id} posted`);
}

describe('a lookup refused with not_in_channel (the bot posts to a public channel it is not in)', () => {
  it('warns once for that channel and posts again once per uncertain post, while other channels still look', async () => {
    // chat:write.public: the bot can post to #a after leaving it, but cannot read its history.
    const w = (world = await slackWorld({ routes: ROUTES }, { scopes: [...ALL_SCOPES, 'chat:write.public'] }));
    const { logger, lines } = captureLogger('info');
    await w.startSink({ logger });
    // The sink learns both channel ids from these, so its lookups need no users.conversations.
    await post(w, 'warm-a', '#a');
    await post(w, 'warm-b', '#b');
    const [a, b] = [w.fake.posts('#a')[0]!.channel, w.fake.posts('#b')[0]!.channel];
    w.fake.leave('#a');
    loseFirstAnswers(w, ['lost-a1', 'lost-a2', 'lost-b']);

    await post(w, 'lost-a1', '#a');
    expect(timesPosted(w.fake, '[lost-a1]')).toBe(2);
    expect(statuses(w, 'lost-a1')).toEqual(['retrying', 'posted']);
    expect(lookups(w)).toEqual([[a, 'not_in_channel']]);

    // A second uncertain post in #a: posted again too, without a second warning.
    await post(w, 'lost-a2', '#a');
    expect(timesPosted(w.fake, '[lost-a2]')).toBe(2);

    // #b is unaffected: its lookup works and finds the post Slack took.
    await post(w, 'lost-b', '#b');
    expect(timesPosted(w.fake, '[lost-b]')).toBe(1);
    expect(w.reports.find((r) => r.eventId === 'lost-b' && r.status === 'posted')).toMatchObject({ channel: b, ts: w.fake.posts('#b')[1]!.ts });
    await post(w, 'plain-a', '#a');
    expect(timesPosted(w.fake, '[plain-a]')).toBe(1);

    expect(lookups(w)).toEqual([
      [a, 'not_in_channel'],
      [a, 'not_in_channel'],
      [b, 'ok'],
    ]);
    expect(lookupWarnings(lines())).toEqual([expect.objectContaining({ channel: a, error: 'not_in_channel', fix: 'invite the bot to the channel', eventId: 'lost-a1' })]);
    await waitForSlack(w, () => w.sinkPending() === 0, 'an empty outbox');
  });
});

describe('a lookup that stops at its page limit (more than 2,000 messages in the search window)', () => {
  it('warns once for that channel and posts again, once', async () => {
    const w = (world = await slackWorld({ routes: ROUTES }));
    const { logger, lines } = captureLogger('info');
    await w.startSink({ logger });
    await post(w, 'warm-a', '#a');
    const a = w.fake.posts('#a')[0]!.channel;
    // The channel gets 2,000 messages right after Slack stores the post: the search reads the
    // newest 2,000 in its window and stops before it reaches the post.
    loseFirstAnswers(w, ['buried', 'buried-2'], () => w.fake.fill('#a', 2000));

    await post(w, 'buried', '#a');
    expect(timesPosted(w.fake, '[buried]')).toBe(2);
    expect(statuses(w, 'buried')).toEqual(['retrying', 'posted']);
    expect(lookups(w)).toEqual(Array.from({ length: 10 }, () => [a, 'ok']));

    await post(w, 'buried-2', '#a');
    expect(timesPosted(w.fake, '[buried-2]')).toBe(2);
    expect(lookupWarnings(lines())).toEqual([expect.objectContaining({ channel: a, error: 'the search stopped at its page limit', eventId: 'buried' })]);

    // The channel goes on as before.
    await post(w, 'after', '#a');
    expect(timesPosted(w.fake, '[after]')).toBe(1);
    await waitForSlack(w, () => w.sinkPending() === 0, 'an empty outbox');
  });

  it('still warns about a different reason later in the same channel', async () => {
    const w = (world = await slackWorld({ routes: ROUTES }, { scopes: [...ALL_SCOPES, 'chat:write.public'] }));
    const { logger, lines } = captureLogger('info');
    await w.startSink({ logger });
    await post(w, 'warm-a', '#a');
    const a = w.fake.posts('#a')[0]!.channel;
    loseFirstAnswers(w, ['buried', 'left'], (id) => (id === 'buried' ? w.fake.fill('#a', 2000) : w.fake.leave('#a')));
    await post(w, 'buried', '#a');
    await post(w, 'left', '#a');
    expect(lookupWarnings(lines()).map((l) => [l.channel, l.error, l.fix])).toEqual([
      [a, 'the search stopped at its page limit', undefined],
      [a, 'not_in_channel', 'invite the bot to the channel'],
    ]);
  });
});
