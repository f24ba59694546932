// A world for the source tests: a real aedes broker, the real server part with the
// given sources config, and an MQTT subscriber that records every event envelope.
// drain() posts a marker event through the bearer API and waits for it: the server
// publishes over one connection in order, so whatever a source published before the
// marker has arrived by then. That proves "nothing was published" without sleeping.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { parseEnvelope, type Envelope } from '../../../shared/envelope.js';
import { Topics } from '../../../shared/topics.js';
import type { BrokerPart } from '../../../broker/broker.js';
import type { ServerPart } from '../../../server/server.js';
import type { Logger } from '../../../shared/logger.js';
import { connectClient, postEvents, silentLogger, startBroker, startServer, tempDir, testConfig, waitFor, withBroker } from '../../helpers/world.js';

export const FIXTURES = join(import.meta.dirname, '../../fixtures/sources');

export function fixture(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

export interface Reply {
  status: number;
  json: Record<string, unknown>;
  headers: Headers;
}

export interface SourceWorld {
  url: string;
  dataDir: string;
  request(method: string, path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<Reply>;
  post(path: string, body: string | Buffer, headers?: Record<string, string>): Promise<Reply>;
  /** The events published since the last drain, markers left out. */
  drain(): Promise<Envelope[]>;
  /** Stops the server only (the broker and the subscriber stay), for restart tests. */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

const MARKER = 'bell.test';

export async function sourceWorld(sources: Record<string, unknown>, opts: { logger?: Logger; dataDir?: string; server?: Record<string, unknown> } = {}): Promise<SourceWorld> {
  const dir = opts.dataDir ? undefined : tempDir('bellhop-sources-');
  const dataDir = opts.dataDir ?? dir!.path;
  const base = testConfig({ sources, ...(opts.server ? { server: opts.server } : {}) }, dataDir);
  const broker: BrokerPart = await startBroker(base);
  const config = withBroker(base, broker.url);
  let server: ServerPart = await startServer(config, opts.logger ?? silentLogger());
  const subscriber: MqttClient = await connectClient(broker.url);
  const events: Envelope[] = [];
  subscriber.on('message', (_topic, payload) => events.push(parseEnvelope(payload)));
  await subscriber.subscribeAsync(new Topics(config.mqtt.topicPrefix).events(), { qos: 1 });
  let cursor = 0;

  const request = async (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> => {
    const res = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
  };

  return {
    get url() {
      return server.url;
    },
    dataDir,
    request,
    post: (path, body, headers = {}) => request('POST', path, body, { 'content-type': 'application/json', ...headers }),
    async drain() {
      const marker = randomUUID();
      const res = await postEvents(server.url, { type: MARKER, id: marker });
      if (res.status !== 202) throw new Error(`marker refused: ${res.status} ${JSON.stringify(res.json)}`);
      const at = await waitFor(() => {
        const i = events.findIndex((e, idx) => idx >= cursor && e.id === marker);
        return i >= 0 ? i + 1 : 0;
      }, { what: 'the marker event' });
      const got = events.slice(cursor, at - 1).filter((e) => e.type !== MARKER);
      cursor = at;
      return got;
    },
    async restartServer() {
      await server.stop();
      server = await startServer(config, opts.logger ?? silentLogger());
    },
    async close() {
      await subscriber.endAsync();
      await server.stop();
      await broker.stop();
      dir?.remove();
    },
  };
}
