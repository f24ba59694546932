// The no-loss and no-duplicate guarantees lean on the broker's persistent session, so
// this file also runs against a real Mosquitto (BELLHOP_TEST_BROKER=mosquitto).
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../helpers/world.js';
import { Outbox } from '../../slack/outbox.js';
import { Metrics } from '../../shared/metrics.js';
import { SwallowingProxy } from './proxy.js';
import { slackWorld, timesPosted, type SlackWorld, waitForSlack } from './helpers.js';

let world: SlackWorld | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await world?.close();
  world = undefined;
});

const CHANNELS = ['#a', '#b', '#c'];
const ROUTES = CHANNELS.map((channel) => ({ match: { data: { channel } }, channel }));

function postedOnce(w: SlackWorld, ids: string[]): boolean {
  return ids.every((id) => timesPosted(w.fake, `[${id}]`) === 1);
}

/** Event subjects are "[id]" so each post can be traced back to its event. */
async function publishMany(w: SlackWorld, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    ids.push(id);
    await w.publish({ id, type: 'user.signup', subject: `[${id}]`, data: { channel: CHANNELS[i % CHANNELS.length]! } });
  }
  return ids;
}

describe('the sink under Slack rate limits and outages', () => {
  it('gets a burst through a 429 storm with the real client: all delivered, none twice', async () => {
    // Slack-like limits: two posts per channel per second, then 429 with Retry-After: 1.
    world = await slackWorld({ routes: ROUTES, limiter: { intervalMs: 10, burst: 10 } }, { rateLimit: { max: 2, windowMs: 1000, retryAfter: 1 } });
    const metrics = new Metrics({ processMetrics: false });
    await world.startSink({ metrics });
    const ids = await publishMany(world, 'storm', 12);
    await waitForSlack(world!, () => postedOnce(world!, ids), 'every event posted', 15_000);
    const rateLimited = world.fake.callsTo('chat.postMessage').filter((c) => c.outcome === 'ratelimited');
    expect(rateLimited.length).toBeGreaterThan(0);
    expect(world.fake.messages).toHaveLength(12);
    expect(world.reports.filter((r) => r.status === 'retrying').length).toBeGreaterThan(0);
    // Every 429 Slack answered is counted, none more.
    const counted = (await metrics.slackRateLimited.get()).values[0]?.value;
    expect(counted).toBe(world.fake.callsTo('chat.postMessage').filter((c) => c.outcome === 'ratelimited').length);
  });

  it('keeps posting to other channels while one waits out a Retry-After', async () => {
    world = await slackWorld({ routes: ROUTES });
    world.fake.failNext('chat.postMessage', { status: 429, retryAfter: 2 }, 1, '#a');
    await world.startSink();
    await world.publish({ id: 'slow', type: 'user.signup', subject: '[slow]', data: { channel: '#a' } });
    await waitForSlack(world!, () => world!.fake.callsTo('chat.postMessage').some((c) => c.outcome === 'HTTP 429'), 'the 429');
    for (const id of ['b1', 'b2', 'b3']) await world.publish({ id, type: 'user.signup', subject: `[${id}]`, data: { channel: '#b' } });
    await waitForSlack(world!, () => postedOnce(world!, ['slow', 'b1', 'b2', 'b3']), 'all four', 8000);
    // (The three b events may come in any order: a broker under load may not keep it.)
    expect(world.fake.messages.map((m) => m.text.match(/\[(\w+)\]/)?.[1]).at(-1)).toBe('slow');
  });

  for (const [name, fault] of [
    ['500s', { status: 500 as const }],
    ['dropped connections', { drop: true as const }],
  ] as const) {
    it(`loses nothing through a Slack outage (${name}) and posts everything once when it is back`, async () => {
      world = await slackWorld({ routes: ROUTES });
      world.fake.outage(fault);
      await world.startSink();
      const ids = await publishMany(world, 'outage', 6);
      await waitForSlack(world!, () => ids.every((id) => world!.reports.some((r) => r.eventId === id && r.status === 'retrying')), 'every event retrying');
      expect(world.fake.messages).toHaveLength(0);
      world.fake.outage(undefined);
      await waitForSlack(world!, () => postedOnce(world!, ids), 'every event posted after the outage', 8000);
      expect(world.fake.messages).toHaveLength(6);
      await waitForSlack(world!, () => world!.sinkPending() === 0, 'an empty outbox');
    });
  }

  it('keeps undelivered events in its outbox across a restart while Slack is down', async () => {
    world = await slackWorld({ routes: ROUTES });
    world.fake.outage({ status: 503 });
    const sink = await world.startSink();
    const ids = await publishMany(world, 'kept', 4);
    await waitForSlack(world!, () => sink.pending === 4, 'four events in the outbox');
    await sink.stop();
    world.fake.outage(undefined);
    await world.startSink();
    await waitForSlack(world!, () => postedOnce(world!, ids), 'the kept events posted after the restart');
    expect(world.fake.messages).toHaveLength(4);
  });

  it('gets the events published while it was stopped (persistent session) and posts each once', async () => {
    world = await slackWorld({ routes: ROUTES });
    const sink = await world.startSink();
    await sink.stop();
    const ids = await publishMany(world, 'away', 5);
    await world.startSink();
    await waitForSlack(world!, () => postedOnce(world!, ids), 'the queued events');
    expect(world.fake.messages).toHaveLength(5);
  });

  it('leaves an event it could not store unacknowledged, so the broker hands it over again after a restart', async () => {
    world = await slackWorld({ routes: ROUTES });
    const { logger, lines } = captureLogger('info');
    // A disk that fails once, on the first event that arrives.
    let failed: string | undefined;
    const sink = await world.startSink({
      logger,
      createOutbox: (dir, size) =>
        new (class extends Outbox {
          override accept(...args: Parameters<Outbox['accept']>) {
            if (failed !== undefined) return super.accept(...args);
            failed = args[0].id;
            return Promise.reject(new Error('disk full'));
          }
        })(dir, size),
    });
    const ids = await publishMany(world, 'disk', 2);
    await waitForSlack(world!, () => failed !== undefined && postedOnce(world!, ids.filter((id) => id !== failed)), 'the other event');
    expect(lines().find((l) => l.msg === 'could not store an event; leaving it unacknowledged')).toMatchObject({ err: 'disk full' });
    expect(timesPosted(world.fake, `[${failed!}]`)).toBe(0);
    await sink.stop();
    await world.startSink();
    await waitForSlack(world!, () => postedOnce(world!, ids), 'the unacknowledged event after the restart');
    expect(world.fake.messages).toHaveLength(2);
  });

  it('posts nothing twice when it died before its acknowledgements reached the broker', async () => {
    world = await slackWorld({ routes: ROUTES });
    const proxy = new SwallowingProxy(world.broker.url);
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const first = await world.startSink({ mqttUrl: proxy.url });
    const duplicates: string[] = [];
    // From here on, the sink's PUBACKs never arrive: to the broker these events are unacknowledged.
    proxy.swallowUpstream = true;
    const ids = await publishMany(world, 'unacked', 3);
    await waitForSlack(world!, () => postedOnce(world!, ids), 'the first delivery');
    await proxy.stop();
    await first.stop();
    await world.startSink({ beforeStart: (second) => second.on('duplicate', (id) => duplicates.push(id)) });
    await waitForSlack(world!, () => duplicates.length === 3, 'the broker to redeliver all three');
    expect(duplicates.sort()).toEqual(ids);
    expect(world.fake.messages).toHaveLength(3);
  });
});
