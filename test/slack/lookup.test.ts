// Looking for a post in Slack by its job key, with the real WebClient against the fake
// Slack, which serves history the way Slack does (newest first, pages, metadata on request).
import { afterEach, describe, expect, it } from 'vitest';
import type { WebClient } from '@slack/web-api';
import { WebSlackApi, createWebClient } from '../../slack/api.js';
import { ALL_SCOPES, BOT_TOKEN, FakeSlack } from '../fake-slack/server.js';
import { silentLogger } from '../helpers/world.js';

let fake: FakeSlack | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function setup(scopes?: string[]): Promise<{ fake: FakeSlack; client: WebClient; api: WebSlackApi }> {
  fake = new FakeSlack(scopes ? { scopes } : {});
  await fake.start();
  const client = createWebClient({ token: BOT_TOKEN, apiUrl: fake.apiUrl, timeoutMs: 5000, logger: silentLogger() });
  return { fake, client, api: new WebSlackApi(client) };
}

describe('the fake Slack, read back', () => {
  it('serves a channel newest first, in pages, within oldest and latest, with metadata only when asked', async () => {
    const { client, api } = await setup();
    const posted = [];
    for (let i = 0; i < 5; i++) posted.push(await api.postMessage({ channel: '#h', text: `m${i}`, blocks: [], jobKey: `box:${i}` }));
    await api.postMessage({ channel: '#h', text: 'a reply', blocks: [], threadTs: posted[0]!.ts });
    const channel = posted[0]!.channel;

    const first = await client.conversations.history({ channel, limit: 2 });
    expect(first.messages!.map((m) => m.text)).toEqual(['m4', 'm3']);
    expect(first.has_more).toBe(true);
    expect(first.messages![0]!.metadata).toBeUndefined();
    const second = await client.conversations.history({ channel, limit: 2, cursor: first.response_metadata!.next_cursor! });
    expect(second.messages!.map((m) => m.text)).toEqual(['m2', 'm1']);

    const ranged = await client.conversations.history({ channel, oldest: posted[1]!.ts, latest: posted[3]!.ts, include_all_metadata: true });
    expect(ranged.messages!.map((m) => m.text)).toEqual(['m2']);
    expect(ranged.has_more).toBe(false);
    expect(ranged.messages![0]!.metadata).toEqual({ event_type: 'bellhop_post', event_payload: { job: 'box:2' } });
    const inclusive = await client.conversations.history({ channel, oldest: posted[1]!.ts, latest: posted[3]!.ts, inclusive: true });
    expect(inclusive.messages!.map((m) => m.text)).toEqual(['m3', 'm2', 'm1']);

    const thread = await client.conversations.replies({ channel, ts: posted[0]!.ts, include_all_metadata: true });
    expect(thread.messages!.map((m) => m.text)).toEqual(['m0', 'a reply']);
  });

  it('refuses history without the scope for that kind of conversation', async () => {
    const { client, api } = await setup(ALL_SCOPES.filter((s) => s !== 'im:history'));
    const dm = await api.postMessage({ channel: 'U0DANA', text: 'hi', blocks: [] });
    await expect(client.conversations.history({ channel: dm.channel })).rejects.toMatchObject({ data: { error: 'missing_scope', needed: 'im:history' } });
    await expect(client.conversations.history({ channel: '#h' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
  });

  it('answers not_in_channel for a channel the bot left, and posts there only with chat:write.public', async () => {
    const { client, api } = await setup();
    const here = await api.postMessage({ channel: '#here', text: 'x', blocks: [] });
    const gone = await api.postMessage({ channel: '#gone', text: 'x', blocks: [] });
    const thread = await api.postMessage({ channel: '#gone', text: 'a reply', blocks: [], threadTs: gone.ts });
    fake!.leave('#gone');
    await expect(client.conversations.history({ channel: gone.channel })).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
    await expect(client.conversations.replies({ channel: gone.channel, ts: thread.ts })).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
    await expect(api.postMessage({ channel: '#gone', text: 'y', blocks: [] })).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
    await expect(api.channelId('#gone')).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    expect((await client.conversations.history({ channel: here.channel })).messages).toHaveLength(1);
    await fake!.stop();

    const { api: publicApi } = await setup([...ALL_SCOPES, 'chat:write.public']);
    const before = await publicApi.postMessage({ channel: '#public', text: 'x', blocks: [] });
    fake!.leave('#public');
    await expect(publicApi.postMessage({ channel: '#public', text: 'y', blocks: [] })).resolves.toMatchObject({ channel: before.channel });
  });
});

describe('WebSlackApi.findPosted', () => {
  it('pages back through a busy channel to the post with the job key, and stops at the range', async () => {
    const { api } = await setup();
    const start = Date.now();
    const target = await api.postMessage({ channel: '#busy', text: 'the one', blocks: [], jobKey: 'box:7' });
    // More than one page of other messages after it.
    for (let i = 0; i < 230; i++) await api.postMessage({ channel: '#busy', text: `noise ${i}`, blocks: [], jobKey: `box:${100 + i}` });
    const found = await api.findPosted({ channel: target.channel, jobKey: 'box:7', oldestMs: start - 1000, latestMs: Date.now() + 1000 });
    expect(found).toEqual({ ts: target.ts, complete: true });
    expect(fake!.callsTo('conversations.history')).toHaveLength(2);

    const missing = await api.findPosted({ channel: target.channel, jobKey: 'box:8', oldestMs: start - 1000, latestMs: Date.now() + 1000 });
    expect(missing).toEqual({ complete: true });
    const before = await api.findPosted({ channel: target.channel, jobKey: 'box:7', oldestMs: start - 60_000, latestMs: start - 30_000 });
    expect(before).toEqual({ complete: true });
  });

  it('stops after 10 pages of 200: a post behind 2,000 newer messages in the range is not looked at (complete: false)', async () => {
    const { api } = await setup();
    const start = Date.now();
    const target = await api.postMessage({ channel: '#flood', text: 'the one', blocks: [], jobKey: 'box:1' });
    const range = () => ({ channel: target.channel, jobKey: 'box:1', oldestMs: start - 1000, latestMs: Date.now() + 1000 });
    fake!.fill('#flood', 1999);
    // It is the 2,000th message from the newest: the last one the search reads.
    expect(await api.findPosted(range())).toEqual({ ts: target.ts, complete: true });
    expect(fake!.callsTo('conversations.history')).toHaveLength(10);

    fake!.fill('#flood', 1);
    expect(await api.findPosted(range())).toEqual({ complete: false });
    expect(fake!.callsTo('conversations.history')).toHaveLength(20);
  });

  it('finds a channel id by name among the channels the bot is in, and a DM by the person', async () => {
    const { api } = await setup();
    const posted = await api.postMessage({ channel: '#named', text: 'x', blocks: [] });
    expect(await api.channelId('#named')).toBe(posted.channel);
    expect(await api.channelId(posted.channel)).toBe(posted.channel);
    expect(await api.channelId('U0DANA')).toBe('D0DANA');
    await expect(api.channelId('#nowhere')).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
  });
});
