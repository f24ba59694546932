// Builds a real little world per test: an aedes broker on port 0 with its own data
// folder, the HTTP server, a bell agent on the mock GPIO. Everything is torn down
// by the returned close functions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { parseConfig } from '../../shared/config/load.js';
import type { Config } from '../../shared/config/schema.js';
import { createLogger, type Logger } from '../../shared/logger.js';
import { BrokerPart } from '../../broker/broker.js';
import { ServerPart } from '../../server/server.js';
import { AgentPart } from '../../device/agent.js';
import { MockGpioDriver } from '../../device/gpio/mock.js';
import { inject } from 'vitest';
import { asBrokerPart, startMosquitto } from './mosquitto.js';
import { ownNode, RabbitmqBroker, rabbitAsBrokerPart } from './rabbitmq.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** A logger that keeps every JSON line, for tests that read logs (redaction, ACL denials). */
export function captureLogger(level = 'debug'): { logger: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger(level, sink);
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export const silentLogger = (): Logger => createLogger('silent');

export function tempDir(prefix = 'bellhop-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A config for tests: port 0 everywhere, mock GPIO, a known API token, merged with `raw`. */
export function testConfig(raw: Record<string, unknown> = {}, dataDir?: string): Config {
  const base = {
    dataDir: dataDir ?? tempDir().path,
    log: { level: 'silent' },
    broker: { port: 0 },
    server: { port: 0, tokens: [{ name: 'test', token: TEST_TOKEN }], publishTimeoutMs: 1000, retryAfterSeconds: 2 },
    device: { gpio: { driver: 'mock' } },
  };
  return parseConfig(deepMerge(base, raw));
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Points every client part of `config` at a running broker. */
export function withBroker(config: Config, brokerUrl: string): Config {
  return { ...config, mqtt: { ...config.mqtt, url: brokerUrl } };
}

export async function startBroker(config: Config, logger: Logger = silentLogger()): Promise<BrokerPart> {
  // The vitest project "mosquitto" runs the broker-facing tests again against a real Mosquitto.
  if (process.env.BELLHOP_TEST_BROKER === 'mosquitto') return asBrokerPart(await startMosquitto(config));
  // The vitest project "rabbitmq": a vhost of its own on a RabbitMQ node this process holds.
  if (process.env.BELLHOP_TEST_BROKER === 'rabbitmq') {
    const broker = new RabbitmqBroker(config, await ownNode(inject('rabbitmqNodes')));
    await broker.start();
    return rabbitAsBrokerPart(broker);
  }
  const broker = new BrokerPart({ config: config.broker, topicPrefix: config.mqtt.topicPrefix, dataDir: config.dataDir, logger });
  await broker.start();
  return broker;
}

export async function startServer(config: Config, logger: Logger = silentLogger()): Promise<ServerPart> {
  const server = new ServerPart({ config, tokens: config.server.tokens, logger, connectWaitMs: 3000 });
  await server.start();
  return server;
}

export async function startAgent(
  config: Config,
  driver = new MockGpioDriver(),
  logger: Logger = silentLogger(),
): Promise<{ agent: AgentPart; driver: MockGpioDriver }> {
  const agent = new AgentPart({ config, driver, logger });
  const subscribed = new Promise<void>((resolve) => agent.once('subscribed', resolve));
  await agent.start();
  await subscribed;
  return { agent, driver };
}

export async function connectClient(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000, ...opts });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  return client;
}

/** Polls until `check` returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 10, what = 'condition' } = {},
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as Exclude<T, undefined | null | false | 0 | ''>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function postEvents(baseUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${baseUrl}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}
