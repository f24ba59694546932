import { afterEach, describe, expect, it } from 'vitest';
import { Topics } from '../../shared/topics.js';
import type { RangReport } from '../../shared/messages.js';
import { captureLogger, startAgent } from '../helpers/world.js';
import { blockText, slackWorld, timesPosted, type SlackWorld, waitForSlack } from './helpers.js';

let world: SlackWorld | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await world?.close();
  world = undefined;
});

const ROUTES = [
  { match: { severity: 'critical' }, channel: '#critical-server-errors' },
  { match: { type: 'user.login' }, drop: true },
  { match: { type: 'user.*' }, channel: '#user-behavior' },
  { match: { type: 'payment.*' }, channel: '#financials' },
  { match: { source: 'gitlab' }, channel: '#proj-{project}' },
  { match: { type: 'notification.sent' }, dm: '{data.user_email}' },
];

function reportsFor(w: SlackWorld, eventId: string): string[] {
  return w.reports.filter((r) => r.eventId === eventId).map((r) => r.status);
}

describe('the Slack sink', () => {
  it('posts each event as Block Kit to the channel its route names', async () => {
    world = await slackWorld({ routes: ROUTES });
    await world.startSink();
    await world.publish({ id: 'signup-1', type: 'user.signup', subject: 'a@example.com' });
    await world.publish({ id: 'pay-1', type: 'payment.succeeded', subject: 'Order 1042' });
    await world.publish({ id: 'crash-1', type: 'error.raised', severity: 'critical', subject: 'DB down' });
    await world.publish({ id: 'mr-1', type: 'pr.opened', source: 'gitlab', project: 'Web Shop', subject: 'Fix cart' });
    await waitForSlack(world!, () => world!.fake.messages.length === 4, 'four posts');
    expect(world.fake.posts('#user-behavior').map((m) => m.text)).toEqual([':large_blue_circle: A new customer signed up: a@example.com']);
    expect(world.fake.posts('#financials')).toHaveLength(1);
    expect(world.fake.posts('#critical-server-errors')[0]!.text).toContain('CRITICAL');
    expect(world.fake.posts('#proj-web-shop')).toHaveLength(1);
    const [post] = world.fake.posts('#user-behavior');
    expect((post!.blocks as Array<{ type: string }>).map((b) => b.type)).toEqual(['header', 'section', 'context']);
    await waitForSlack(world!, () => reportsFor(world!, 'mr-1').includes('posted'), 'the delivery report');
    const [mr] = world.fake.posts('#proj-web-shop');
    expect(world.reports.find((r) => r.eventId === 'mr-1')).toMatchObject({ status: 'posted', channel: mr!.channel, ts: mr!.ts });
  });

  it('publishes what it did with each event on slack/delivered', async () => {
    world = await slackWorld({ routes: ROUTES });
    await world.startSink();
    const seen: string[] = [];
    world.publisher.on('message', (_t, payload) => seen.push(payload.toString()));
    await world.publisher.subscribeAsync(new Topics(world.config.mqtt.topicPrefix).slackDelivered(), { qos: 1 });
    await world.publish({ id: 'signup-2', type: 'user.signup' });
    await waitForSlack(world!, () => seen.some((s) => s.includes('"signup-2"') && s.includes('"posted"')), 'the report on MQTT');
  });

  it('sends a direct message to the person by email, looking the email up once', async () => {
    world = await slackWorld({ routes: ROUTES }, { users: { 'dana@example.com': 'U0DANA' } });
    await world.startSink();
    await world.publish({ id: 'n1', type: 'notification.sent', subject: 'Workspace ready', data: { user_email: 'dana@example.com' } });
    await world.publish({ id: 'n2', type: 'notification.sent', subject: 'Build done', data: { user_email: 'Dana@Example.com' } });
    await waitForSlack(world!, () => world!.fake.posts('U0DANA').length === 2, 'two DMs');
    expect(world.fake.callsTo('users.lookupByEmail')).toHaveLength(1);
    expect(world.fake.posts('U0DANA').map((m) => m.channel)).toEqual(['D0DANA', 'D0DANA']);
  });

  it('reports a DM to an unknown email as failed, logs it with the event id, and goes on without asking Slack again', async () => {
    world = await slackWorld({ routes: ROUTES });
    const { logger, lines } = captureLogger('info');
    await world.startSink({ logger });
    await world.publish({ id: 'n-nobody', type: 'notification.sent', data: { user_email: 'nobody@example.com' } });
    await world.publish({ id: 'n-nobody-2', type: 'notification.sent', data: { user_email: 'nobody@example.com' } });
    await world.publish({ id: 'after', type: 'user.signup' });
    await waitForSlack(world!, () => reportsFor(world!, 'after').includes('posted') && reportsFor(world!, 'n-nobody-2').includes('failed'), 'the next events');
    expect(world.reports.find((r) => r.eventId === 'n-nobody')).toMatchObject({ status: 'failed', error: 'users_not_found' });
    // The unknown address is remembered for a while: one lookup, not one per event.
    expect(world.fake.callsTo('users.lookupByEmail')).toHaveLength(1);
    expect(lines().find((l) => l.eventId === 'n-nobody' && l.level === 50)).toMatchObject({ error: 'users_not_found' });
    await waitForSlack(world!, () => world!.sinkPending() === 0, 'an empty outbox');
  });

  it('posts nothing for what the table drops, and says so in a report and, at debug, the log', async () => {
    world = await slackWorld({ routes: ROUTES, defaultChannel: undefined });
    const { logger, lines } = captureLogger('debug');
    await world.startSink({ logger });
    await world.publish({ id: 'login-1', type: 'user.login' });
    await world.publish({ id: 'deploy-1', type: 'deploy.started' });
    await waitForSlack(world!, () => world!.reports.filter((r) => r.status === 'dropped').length === 2, 'two drop reports');
    expect(world.reports.find((r) => r.eventId === 'login-1')!.error).toBe('dropped by slack.routes.1');
    expect(world.reports.find((r) => r.eventId === 'deploy-1')!.error).toMatch(/no route matched/);
    // A line per event, so at debug: the default info level pays nothing for a flood of drops.
    const said = lines().filter((l) => l.msg === 'not posting this event to Slack');
    expect(said.map((l) => l.eventId).sort()).toEqual(['deploy-1', 'login-1']);
    expect(said.map((l) => l.level)).toEqual([20, 20]);
    expect(world.fake.messages).toHaveLength(0);
  });

  it('sends what no rule takes to the default channel', async () => {
    world = await slackWorld({ routes: ROUTES, defaultChannel: '#bellhop' });
    await world.startSink();
    await world.publish({ id: 'deploy-2', type: 'deploy.started' });
    await waitForSlack(world!, () => world!.fake.posts('#bellhop').length === 1, 'the default route');
  });

  it('gives up on a channel that does not exist, logging the event id, and the other channels carry on', async () => {
    world = await slackWorld({ routes: [{ match: { type: 'user.*' }, channel: '#gone' }] }, { missingChannels: ['#gone'] });
    const { logger, lines } = captureLogger('info');
    await world.startSink({ logger });
    await world.publish({ id: 'lost-1', type: 'user.signup' });
    await world.publish({ id: 'fine-1', type: 'payment.succeeded' });
    await waitForSlack(world!, () => reportsFor(world!, 'lost-1').includes('failed') && reportsFor(world!, 'fine-1').includes('posted'), 'both outcomes');
    expect(lines().find((l) => l.eventId === 'lost-1' && l.level === 50)).toMatchObject({ error: 'channel_not_found', lane: 'channel:#gone' });
    expect(world.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === '#gone')).toHaveLength(1);
  });

  it('posts a redelivered event once, also after a restart', async () => {
    world = await slackWorld();
    const sink = await world.startSink();
    const duplicates: string[] = [];
    sink.on('duplicate', (id) => duplicates.push(id));
    await world.publish({ id: 'same', type: 'user.signup', subject: 'same-event' });
    await world.publish({ id: 'same', type: 'user.signup', subject: 'same-event' });
    await waitForSlack(world!, () => duplicates.length === 1, 'the duplicate');
    await sink.stop();
    await world.startSink({ beforeStart: (again) => again.on('duplicate', (id) => duplicates.push(id)) });
    await world.publish({ id: 'same', type: 'user.signup', subject: 'same-event' });
    await waitForSlack(world!, () => duplicates.length === 2, 'the duplicate after the restart');
    expect(timesPosted(world.fake, 'same-event')).toBe(1);
  });

  it('updates the message to show which bell rang for the event', async () => {
    world = await slackWorld({ routes: ROUTES }, {}, { device: { bell: { pulseMs: 5, gapMs: 5, minGapMs: 5 } } });
    await world.startSink();
    const { agent, driver } = await startAgent(world.config);
    cleanups.push(() => agent.stop());
    await world.publish({ id: 'ring-me', type: 'user.signup', subject: 'b@example.com' });
    await waitForSlack(world!, () => world!.fake.posts('#user-behavior')[0]?.updates.length, 'the chat.update');
    const [post] = world.fake.posts('#user-behavior');
    expect(driver.pulses()).toHaveLength(1);
    expect(blockText(post!.blocks)).toMatch(/:bell: rang office-bell <!date\^\d+\^\{time_secs\}\|/);
    expect(post!.text).toMatch(/rang office-bell \d\d:\d\d:\d\d UTC/);
    await waitForSlack(world!, () => reportsFor(world!, 'ring-me').includes('updated'), 'the updated report');
  });

  it('shows a ring that came in while the post was still waiting for Slack', async () => {
    world = await slackWorld({ routes: ROUTES });
    world.fake.failNext('chat.postMessage', { status: 503 }, 3);
    await world.startSink();
    await world.publish({ id: 'early-ring', type: 'user.signup' });
    await waitForSlack(world!, () => reportsFor(world!, 'early-ring').includes('retrying'), 'the retry');
    const rang: RangReport = { eventId: 'early-ring', deviceId: 'desk-bell', type: 'user.signup', strikes: 1, at: new Date().toISOString() };
    await world.publisher.publishAsync(new Topics('bellhop').device('desk-bell', 'rang'), JSON.stringify(rang), { qos: 1 });
    await waitForSlack(world!, () => world!.fake.posts('#user-behavior')[0]?.text.includes('rang desk-bell'), 'the ring on the message');
    expect(world.fake.posts('#user-behavior')).toHaveLength(1);
  });

  it('ignores rings for events it never posted (a /ding) and reports with no strikes', async () => {
    world = await slackWorld({ routes: ROUTES });
    const sink = await world.startSink();
    const topic = new Topics('bellhop').device('desk-bell', 'rang');
    await world.publish({ id: 'quiet', type: 'user.signup' });
    await waitForSlack(world!, () => reportsFor(world!, 'quiet').includes('posted'), 'the post');
    const reports: RangReport[] = [
      { eventId: 'not-ours', deviceId: 'desk-bell', type: 'bell.test', strikes: 1, at: new Date().toISOString() },
      { eventId: 'quiet', deviceId: 'desk-bell', type: 'user.signup', strikes: 0, at: new Date().toISOString(), suppressed: 'muted' },
    ];
    for (const r of reports) await world.publisher.publishAsync(topic, JSON.stringify(r), { qos: 1 });
    await world.publish({ id: 'marker', type: 'user.signup' });
    await waitForSlack(world!, () => reportsFor(world!, 'marker').includes('posted'), 'a later event');
    expect(world.fake.callsTo('chat.update')).toHaveLength(0);
    expect(sink.pending).toBe(0);
  });

  it('sends the text alone when Slack refuses the blocks', async () => {
    world = await slackWorld({ routes: ROUTES });
    world.fake.failNext('chat.postMessage', { error: 'invalid_blocks' });
    await world.startSink();
    await world.publish({ id: 'plain', type: 'user.signup', subject: 'plain-text-only' });
    await waitForSlack(world!, () => world!.fake.posts('#user-behavior').length === 1, 'the text-only post');
    expect(world.fake.posts('#user-behavior')[0]).toMatchObject({ blocks: [], text: expect.stringContaining('plain-text-only') as unknown });
  });
});
