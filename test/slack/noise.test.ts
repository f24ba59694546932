import { afterEach, describe, expect, it } from 'vitest';
import { reportedEventIds, type DeliveryReport } from '../../shared/messages.js';
import { blockText, clockHoldingTimers, shiftedClock, slackWorld, waitForSlack, type SlackWorld } from './helpers.js';

let world: SlackWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const ROUTES = [
  { match: { type: 'error.*' }, channel: '#errors' },
  { match: { type: 'user.*' }, channel: '#user-behavior' },
];

describe('threads for repeated errors', () => {
  it('posts repeats of the same error as replies in the first message\'s thread, with a running count', async () => {
    world = await slackWorld({ routes: ROUTES });
    await world.startSink();
    for (let i = 1; i <= 3; i++) {
      await world.publish({ id: `boom-${i}`, type: 'error.raised', severity: 'error', data: { message: 'TypeError: x is undefined', fingerprint: 'checkout-42' } });
    }
    await world.publish({ id: 'other', type: 'error.raised', severity: 'error', data: { message: 'Timeout talking to Stripe' } });
    await waitForSlack(world!, () => world!.reports.filter((r) => r.status === 'threaded').length === 2 && world!.fake.posts('#errors').length === 2, 'one thread with two replies and one other error');
    const first = world.fake.posts('#errors').find((m) => m.text.includes('TypeError'));
    expect(world.fake.posts('#errors').filter((m) => m.text.includes('Timeout talking to Stripe'))).toHaveLength(1);
    const replies = world.fake.replies(first!);
    expect(replies.map((r) => blockText(r.blocks).match(/\((\d+)(st|nd|rd|th) time\)/)?.[1])).toEqual(['2', '3']);
    await waitForSlack(world!, () => blockText(first!.blocks).includes('seen 3 times'), 'the count on the first message');
    expect(world.reports.filter((r) => r.eventId === 'boom-2' || r.eventId === 'boom-3').map((r) => r.status)).toEqual(['threaded', 'threaded']);
  });

  it('recognises the same error without a fingerprint by its type, source, project and message', async () => {
    world = await slackWorld({ routes: ROUTES });
    await world.startSink();
    await world.publish({ id: 'a1', type: 'error.raised', project: 'shop', data: { message: 'disk full' } });
    await world.publish({ id: 'a2', type: 'error.raised', project: 'shop', data: { message: 'disk full' } });
    await world.publish({ id: 'b1', type: 'error.raised', project: 'blog', data: { message: 'disk full' } });
    await waitForSlack(world!, () => world!.fake.messages.length === 3, 'three messages');
    expect(world.fake.posts('#errors')).toHaveLength(2);
  });

  it('starts a new message when the error comes back after the thread window', async () => {
    world = await slackWorld({ routes: ROUTES, threads: { windowMs: 60_000 } });
    const clock = shiftedClock();
    await world.startSink({ clock });
    await world.publish({ id: 'w1', type: 'error.raised', data: { message: 'flaky', fingerprint: 'f' } });
    await waitForSlack(world!, () => world!.reports.some((r) => r.eventId === 'w1' && r.status === 'posted'), 'the first');
    clock.shift(61_000);
    await world.publish({ id: 'w2', type: 'error.raised', data: { message: 'flaky', fingerprint: 'f' } });
    await waitForSlack(world!, () => world!.reports.some((r) => r.eventId === 'w2' && r.status === 'posted'), 'a new top-level message');
    expect(world.fake.posts('#errors')).toHaveLength(2);
  });

  it('keeps threading after a restart', async () => {
    world = await slackWorld({ routes: ROUTES });
    const sink = await world.startSink();
    await world.publish({ id: 'r1', type: 'error.raised', data: { message: 'again', fingerprint: 'g' } });
    await waitForSlack(world!, () => world!.reports.some((r) => r.eventId === 'r1' && r.status === 'posted'), 'the first');
    await sink.stop();
    await world.startSink();
    await world.publish({ id: 'r2', type: 'error.raised', data: { message: 'again', fingerprint: 'g' } });
    await waitForSlack(world!, () => world!.reports.some((r) => r.eventId === 'r2' && r.status === 'threaded'), 'the reply');
    expect(world.fake.posts('#errors')).toHaveLength(1);
  });
});

describe('digests for bursts', () => {
  it('posts one digest for the events of a burst beyond the threshold', async () => {
    world = await slackWorld({ routes: ROUTES, digest: { threshold: 3, windowMs: 60_000 }, templates: { 'user.signup': { digestTitle: '{count} new signups in the last {window}' } } });
    const clock = clockHoldingTimers(60_000);
    await world.startSink({ clock });
    for (let i = 0; i < 17; i++) await world.publish({ id: `s${i}`, type: 'user.signup', subject: `user${i}@example.com` });
    await waitForSlack(world!, () => world!.fake.posts('#user-behavior').length === 3 && world!.sinkPending() === 14, 'three posts and fourteen held');
    clock.fire();
    await waitForSlack(world!, () => world!.reports.filter((r) => r.status === 'digested').length === 14, 'the digest');
    const posts = world.fake.posts('#user-behavior');
    expect(posts).toHaveLength(4);
    const digest = posts[3]!;
    expect(digest.text).toBe(':package: 14 new signups in the last minute');
    expect(blockText(digest.blocks)).toContain('3 more posted one by one above');
    // Every signup is either one of the three posts or listed in the digest.
    const single = world.reports.filter((r) => r.status === 'posted').map((r) => r.eventId);
    expect(single).toHaveLength(3);
    for (let i = 0; i < 17; i++) {
      const listed = blockText(digest.blocks).includes(`user${i}@example.com`);
      expect(listed).toBe(!single.includes(`s${i}`));
    }
    await waitForSlack(world!, () => world!.sinkPending() === 0, 'an empty outbox');
  });

  it('folds a flood into one digest that counts every event and lists the first digest.maxListed', async () => {
    world = await slackWorld({ routes: ROUTES, digest: { threshold: 1, windowMs: 60_000, maxListed: 5 } });
    const clock = clockHoldingTimers(60_000);
    await world.startSink({ clock });
    const n = 1_101; // 1,100 held: reported on the broker in three messages (500, 500, 100)
    const onBroker: DeliveryReport[] = [];
    world.publisher.on('message', (_t, p) => onBroker.push(JSON.parse(p.toString()) as DeliveryReport));
    await world.publisher.subscribeAsync('bellhop/slack/delivered', { qos: 1 });
    for (let i = 0; i < n; i++) void world.publish({ id: `f${i}`, type: 'user.signup', subject: `flood${i}@example.com` });
    await waitForSlack(world!, () => world!.fake.posts('#user-behavior').length === 1 && world!.sinkPending() === n - 1, 'one post and the rest held', 20_000);
    clock.fire();
    await waitForSlack(world!, () => world!.reports.filter((r) => r.status === 'digested').length === n - 1, 'every held event digested', 20_000);
    const digest = world.fake.posts('#user-behavior')[1]!;
    expect(digest.text).toBe(`:package: ${n - 1} × user.signup in the last minute`);
    const text = blockText(digest.blocks);
    expect(text.match(/flood\d+@example\.com/g)).toHaveLength(5);
    expect(text).toContain(`…and ${n - 1 - 5} more`);
    await waitForSlack(world!, () => world!.sinkPending() === 0, 'an empty outbox');
    expect(world.fake.posts('#user-behavior')).toHaveLength(2);
    await waitForSlack(world!, () => onBroker.filter((r) => r.status === 'digested').length === 3, 'three digest reports on the broker');
    expect(onBroker.filter((r) => r.status === 'digested').map((r) => reportedEventIds(r).length)).toEqual([500, 500, 100]);
  });

  it('posts the events held for a digest after a restart, once', async () => {
    world = await slackWorld({ routes: ROUTES, digest: { threshold: 1, windowMs: 60_000 } });
    const first = await world.startSink({ clock: clockHoldingTimers(60_000) });
    for (let i = 0; i < 4; i++) await world.publish({ id: `h${i}`, type: 'user.signup', subject: `held${i}` });
    await waitForSlack(world!, () => world!.fake.posts('#user-behavior').length === 1 && world!.sinkPending() === 3, 'one post and three held');
    await first.stop();
    const clock = clockHoldingTimers(60_000);
    await world.startSink({ clock });
    // After the restart the held events are offered afresh: one passes, the rest wait for the window.
    await waitForSlack(world!, () => world!.fake.posts('#user-behavior').length === 2 && clock.held() === 1, 'the restart');
    clock.fire();
    await waitForSlack(world!, () => world!.reports.filter((r) => r.status === 'digested').length === 2, 'the digest of the rest');
    const text = world.fake.messages.map((m) => blockText(m.blocks)).join();
    for (let i = 0; i < 4; i++) expect(text.split(`held${i}`).length - 1).toBe(1);
  });

  it('never folds severities outside digest.severities, nor routes that say digest: false', async () => {
    world = await slackWorld({
      routes: [{ match: { type: 'user.*' }, channel: '#user-behavior', digest: false }, { match: { type: 'error.*' }, channel: '#errors' }],
      digest: { threshold: 1, windowMs: 200 },
      threads: { types: [] },
    });
    await world.startSink();
    for (let i = 0; i < 4; i++) await world.publish({ id: `u${i}`, type: 'user.signup' });
    for (let i = 0; i < 4; i++) await world.publish({ id: `c${i}`, type: 'error.raised', severity: 'critical', data: { message: `crash ${i}` } });
    await waitForSlack(world!, () => world!.reports.filter((r) => r.status === 'posted').length === 8, 'eight single posts');
    expect(world.reports.some((r) => r.status === 'digested')).toBe(false);
  });
});
