// Everything about an event survives what the event survives: with the broker killed
// (SIGKILL) twice mid-stream and restarted, every accepted event is rung and posted, and the
// bell's `rang` report and the Slack part's `delivered` report of each reach the server (its
// status trace, /metrics), on the embedded broker and on Mosquitto.
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../shared/config/schema.js';
import type { Trace } from '../../server/status/schemas.js';
import { SlackSink } from '../../slack/sink.js';
import { WebSlackApi, createWebClient } from '../../slack/api.js';
import { BOT_TOKEN, FakeSlack } from '../fake-slack/server.js';
import { slackSettings } from '../slack/helpers.js';
import { TEST_TOKEN, postEvents, silentLogger, startAgent, startServer, testConfig, waitFor, withBroker } from '../helpers/world.js';
import { brokerProcess } from './broker-process.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function trace(url: string, id: string): Promise<Trace | undefined> {
  const res = await fetch(`${url}/v1/events/${id}/trace`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  return res.status === 200 ? ((await res.json()) as Trace) : undefined;
}

describe(`reports across broker crashes (${process.env.BELLHOP_TEST_BROKER === 'mosquitto' ? 'Mosquitto' : 'embedded broker'})`, () => {
  it('delivers every rang and delivered report of every accepted event to the server', async () => {
    const fake = new FakeSlack();
    await fake.start();
    cleanups.push(() => fake.stop());
    const base = testConfig({
      mqtt: { reconnectMs: 100 },
      device: { bell: { pulseMs: 5, gapMs: 5, minGapMs: 5 } },
      status: { recentEvents: 1000 },
      slack: slackSettings(fake, { limiter: { intervalMs: 1, burst: 50 } }),
    });
    const broker = brokerProcess(base, { logLevel: 'debug' });
    await broker.start();
    cleanups.push(() => broker.kill());
    const config: Config = withBroker(base, broker.url);
    // The server comes back after the bell and the Slack part (back-off differs per part, as
    // in the field): what they report meanwhile must wait for it, not vanish.
    const server = await startServer({ ...config, mqtt: { ...config.mqtt, reconnectMs: 1500 } });
    cleanups.push(() => server.stop());
    const { agent } = await startAgent(config);
    cleanups.push(() => agent.stop());
    const logger = silentLogger();
    const sink = new SlackSink({ config, api: new WebSlackApi(createWebClient({ token: BOT_TOKEN, apiUrl: fake.apiUrl, timeoutMs: 10_000, logger })), logger });
    await sink.start();
    cleanups.push(() => sink.stop());

    const accepted: string[] = [];
    // 504: sent but not acknowledged in time; such an event may well have been published.
    let unconfirmed = 0;
    const total = 240;
    for (let i = 0; i < total; i++) {
      if (i === 80 || i === 160) {
        await broker.kill();
        await broker.start();
      }
      const id = `report-${i}`;
      // Around a restart the server answers 503 until it is back: that event was never accepted.
      const res = await postEvents(server.url, { type: 'user.signup', id, data: { email: `u${i}@example.com` } });
      if (res.status === 202) accepted.push(id);
      else if (res.status === 504) unconfirmed += 1;
      if (res.status !== 202) await new Promise((r) => setTimeout(r, 50));
    }
    expect(accepted.length).toBeGreaterThan(total * 0.6);

    const complete = async (id: string) => {
      const t = await trace(server.url, id);
      return t !== undefined && t.steps.some((s) => s.stage === 'rang') && t.steps.some((s) => s.stage === 'slack' && s.outcome === 'ok');
    };
    let missing: string[] = [];
    await waitFor(
      async () => {
        missing = [];
        for (const id of accepted) if (!(await complete(id))) missing.push(id);
        return missing.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'a rang and a Slack step in every trace' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${missing.length} of ${accepted.length} incomplete, e.g. ${missing.slice(0, 10).join(', ')}`, { cause: err });
    });

    // A restart costs each persistent session one reconnect: the embedded broker must not
    // drop a client it just took back (aedes-persistence-level's "no such packet").
    if (broker.kind === 'aedes') expect(broker.describe().match(/"msg":"client error"[^\n]*/g) ?? []).toEqual([]);

    // /metrics counts from the same reports: a post per accepted event, and a strike or a
    // reason for none per accepted event.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const count = (pattern: string) => [...metrics.matchAll(new RegExp(`^${pattern} (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    const posted = count('bellhop_slack_deliveries_total\\{status="posted"\\}');
    expect(posted).toBeGreaterThanOrEqual(accepted.length);
    expect(posted).toBeLessThanOrEqual(accepted.length + unconfirmed);
    expect(count('bellhop_strikes_total\\{[^}]*\\}') + count('bellhop_rings_suppressed_total\\{[^}]*\\}')).toBeGreaterThanOrEqual(accepted.length);
  }, 120_000);
});
