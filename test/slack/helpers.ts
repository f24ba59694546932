// A world for the Slack tests: a real broker, the fake Slack, the sink with the real
// WebClient pointed at the fake, and a publisher for events.
import type { Metrics } from '../../shared/metrics.js';
import type { MqttClient } from 'mqtt';
import { toEnvelope, type Envelope, type EventInput } from '../../shared/envelope.js';
import type { Config } from '../../shared/config/schema.js';
import type { DeliveryReport } from '../../shared/messages.js';
import { Topics } from '../../shared/topics.js';
import type { Logger } from '../../shared/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { BrokerPart } from '../../broker/broker.js';
import { SlackSink } from '../../slack/sink.js';
import type { Outbox } from '../../slack/outbox.js';
import { WebSlackApi, createWebClient } from '../../slack/api.js';
import { BOT_TOKEN, FakeSlack, type ApiCall, type FakeSlackOptions } from '../fake-slack/server.js';
import { connectClient, silentLogger, startBroker, testConfig, waitFor, withBroker } from '../helpers/world.js';

export interface SlackWorld {
  fake: FakeSlack;
  broker: BrokerPart;
  config: Config;
  publisher: MqttClient;
  reports: DeliveryReport[];
  /** Starts a sink on this world's data folder (a second call = a restart). */
  startSink(opts?: { logger?: Logger; mqttUrl?: string; clock?: Clock; beforeStart?: (sink: SlackSink) => void; createOutbox?: (dir: string, size: number) => Outbox; metrics?: Metrics; tokenRecheck?: { baseMs: number; maxMs: number } }): Promise<SlackSink>;
  publish(input: EventInput & { id: string }): Promise<Envelope>;
  /** Outbox jobs of the last sink started. */
  sinkPending(): number;
  close(): Promise<void>;
}

/** Fast settings for tests: short limiter interval and back-off, digests off unless asked. */
export function slackSettings(fake: FakeSlack, slack: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    botToken: BOT_TOKEN,
    apiUrl: fake.apiUrl,
    defaultChannel: '#events',
    limiter: { intervalMs: 10, burst: 5 },
    retry: { minMs: 20, maxMs: 200 },
    digest: { threshold: 0 },
    // Generous: a timed-out request that Slack did take would be posted again (at-least-once).
    requestTimeoutMs: 10_000,
    ...slack,
  };
}

export async function slackWorld(slack: Record<string, unknown> = {}, fakeOptions: FakeSlackOptions = {}, raw: Record<string, unknown> = {}): Promise<SlackWorld> {
  const fake = new FakeSlack(fakeOptions);
  await fake.start();
  const base = testConfig({ ...raw, slack: slackSettings(fake, slack) });
  const broker = await startBroker(base);
  const config = withBroker(base, broker.url);
  const publisher = await connectClient(broker.url);
  const topics = new Topics(config.mqtt.topicPrefix);
  const reports: DeliveryReport[] = [];
  const sinks: SlackSink[] = [];
  return {
    fake,
    broker,
    config,
    publisher,
    reports,
    async startSink({ logger = silentLogger(), mqttUrl, clock, beforeStart, createOutbox, metrics, tokenRecheck } = {}) {
      const api = new WebSlackApi(createWebClient({ token: BOT_TOKEN, apiUrl: fake.apiUrl, timeoutMs: config.slack.requestTimeoutMs, logger }));
      const sinkConfig = mqttUrl ? withBroker(config, mqttUrl) : config;
      const sink = new SlackSink({ config: sinkConfig, api, logger, ...(clock ? { clock } : {}), ...(createOutbox ? { createOutbox } : {}), ...(metrics ? { metrics } : {}), ...(tokenRecheck ? { tokenRecheck } : {}) });
      sink.on('report', (r) => reports.push(r));
      beforeStart?.(sink);
      const subscribed = new Promise<void>((resolve) => sink.once('subscribed', resolve));
      await sink.start();
      await subscribed;
      sinks.push(sink);
      return sink;
    },
    sinkPending: () => sinks[sinks.length - 1]?.pending ?? 0,
    async publish(input) {
      const event = toEnvelope(input, { source: 'test' });
      await publisher.publishAsync(topics.event(event.type), JSON.stringify(event), { qos: 1 });
      return event;
    },
    async close() {
      for (const sink of sinks.splice(0).reverse()) await sink.stop().catch(() => undefined);
      await publisher.endAsync().catch(() => undefined);
      await broker.stop();
      await fake.stop();
    },
  };
}

/** Texts of all blocks of a message, flattened (for "does it say X" checks). */
export function blockText(blocks: unknown[]): string {
  return JSON.stringify(blocks);
}

/** waitFor, with what the fake Slack saw and what the sink reported when it times out. */
export async function waitForSlack<T>(w: SlackWorld, check: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<void> {
  try {
    await waitFor(check, { what, timeoutMs });
  } catch (err) {
    const calls = w.fake.calls.map((c) => `${c.method} ${String(c.args.channel ?? '')} ${c.outcome}`).join('; ');
    const reports = w.reports.map((r) => `${r.eventId}:${r.status}${r.error ? `(${r.error})` : ''}`).join(', ');
    throw new Error(`${(err as Error).message}\n  Slack calls: ${calls}\n  reports: ${reports}`, { cause: err });
  }
}

/** How many times a message mentioning `needle` was posted (top level or in a thread). */
export function timesPosted(fake: FakeSlack, needle: string): number {
  return fake.messages.filter((m) => m.text.includes(needle)).length;
}

/**
 * The system clock, except that timers of exactly `heldMs` (a digest window) wait until
 * fire() instead of real time, so a test decides when the window closes.
 */
export function clockHoldingTimers(heldMs: number): Clock & { fire: () => void; held: () => number } {
  const held = new Map<NodeJS.Timeout, () => void>();
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
      if (ms !== heldMs) return setTimeout(fn, ms);
      const handle = setTimeout(() => undefined, 2 ** 31 - 1);
      held.set(handle, fn);
      return handle;
    },
    clearTimeout: (h) => {
      held.delete(h);
      clearTimeout(h);
    },
    fire: () => {
      const due = [...held];
      held.clear();
      for (const [handle, fn] of due) {
        clearTimeout(handle);
        fn();
      }
    },
    held: () => held.size,
  };
}

/** The system clock, shifted by `offset` ms on demand (timers stay real). */
export function shiftedClock(): Clock & { shift: (ms: number) => void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h),
    shift: (ms) => {
      offset += ms;
    },
  };
}

/**
 * The sink's lookups of posts that may already be in Slack (history read with metadata), without
 * its read of each channel after the first post there (slack/history-watch.ts), which covers
 * only the two seconds around that post.
 */
export function lookupCalls(fake: FakeSlack, method = 'conversations.history'): ApiCall[] {
  return fake.callsTo(method).filter((c) => c.args.include_all_metadata === 'true' && !isReadCheck(c));
}

/** The sink's read of a channel after its first post there (see lookupCalls). */
export function isReadCheck(call: ApiCall): boolean {
  return Number(call.args.latest) - Number(call.args.oldest) <= 2.5;
}
