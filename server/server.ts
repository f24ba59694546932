// The server part: an MQTT client plus the HTTP app, listening on the configured port.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Config } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import { FatalSignal, type Part } from '../shared/part.js';
import { Topics } from '../shared/topics.js';
import { connectMqtt, mqttSettings, failLoudly, waitForConnect, type MqttClient } from '../shared/mqtt.js';
import { buildApp } from './app.js';
import { EventPublisher } from './publisher.js';
import { brokerKeepsQos2, QOS2_DOWNGRADED } from './qos2-check.js';
import type { LocalBroker } from '../shared/local-broker.js';
import { MetricsObserver } from './metrics-observer.js';
import { Metrics } from '../shared/metrics.js';
import type { ApiToken } from './auth.js';
import { StatusPart } from './status/part.js';
import { statusPlugin } from './status/plugin.js';
import { connectableUrl } from '../shared/url.js';
import { listenError } from '../shared/listen.js';
import type { ReadinessCheck } from './routes/health.js';

export interface ServerPartOptions {
  config: Config;
  tokens: readonly ApiToken[];
  logger: Logger;
  plugins?: ReadonlyArray<FastifyPluginAsync>;
  /** How long start() waits for the broker before starting anyway (answering 503 until it connects). */
  connectWaitMs?: number;
  /** Shared with other parts of the same process (e.g. the Slack sink) so /metrics shows them too. */
  metrics?: Metrics;
  /** The embedded broker of this process (`bellhop start`): events are published to it, and the status page fed by it, without a socket. */
  localBroker?: LocalBroker;
}

export class ServerPart implements Part {
  readonly name = 'server';
  #fatal = new FatalSignal();
  #opts: ServerPartOptions;
  #log: Logger;
  #mqtt: MqttClient | undefined;
  #app: FastifyInstance | undefined;
  #status: StatusPart | undefined;
  #readiness: Record<string, ReadinessCheck> = {};
  #observer: MetricsObserver | undefined;

  constructor(opts: ServerPartOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ part: 'server' });
  }

  /** Adds a named check to /readyz (e.g. the Slack Socket Mode connection). */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.#readiness[name] = check;
  }

  get port(): number {
    const addr = this.#app?.server.address();
    return typeof addr === 'object' && addr ? addr.port : this.#opts.config.server.port;
  }

  get url(): string {
    return connectableUrl('http', this.#opts.config.server.host, this.port);
  }

  get mqtt(): MqttClient | undefined {
    return this.#mqtt;
  }

  onFatal(listener: (err: Error) => void): void {
    this.#fatal.on(listener);
  }

  async start(): Promise<void> {
    const { config } = this.#opts;
    const topics = new Topics(config.mqtt.topicPrefix);
    // A persistent session: reports (rang, delivered, status) published while this client is
    // away, even for a moment around a broker restart, wait for it instead of vanishing.
    const client = connectMqtt(mqttSettings(config, config.server.mqtt), { clientId: config.server.mqttClientId, clean: false });
    failLoudly(client, config, "server.mqtt.username and server.mqtt.password (the server's broker login)", (err) => this.#fatal.raise(err));
    this.#mqtt = client;
    client.on('connect', () => this.#log.info('connected to MQTT broker'));
    client.on('offline', () => this.#log.warn('MQTT broker unreachable; answering 503 until it is back'));
    client.on('error', (err) => this.#log.warn({ err: err.message }, 'MQTT error'));
    try {
      await waitForConnect(client, this.#opts.connectWaitMs ?? 5000);
    } catch (err) {
      if (typeof (err as { code?: unknown }).code === 'number') {
        client.end(true);
        throw new Error(`MQTT broker refused the server's login: ${(err as Error).message}`, { cause: err });
      }
      this.#log.warn('starting without a broker connection');
    }
    if (config.server.publishQos === 2) await this.#checkQos2(client, topics);
    const metrics = config.server.metrics ? (this.#opts.metrics ?? new Metrics()) : undefined;
    if (metrics) {
      this.#observer = new MetricsObserver(client, topics, metrics);
      this.#observer.start();
    }
    const local = this.#opts.localBroker;
    const publisher = new EventPublisher(client, topics, config.server.publishTimeoutMs, metrics, config.server.publishQos, local);
    this.#readiness = { mqtt: () => client.connected, ...this.#readiness };
    const plugins = [...(this.#opts.plugins ?? [])];
    if (config.status.enabled) {
      const status = new StatusPart({ config: config.status, client, topics, logger: this.#opts.logger, publishTimeoutMs: config.server.publishTimeoutMs, ...(local ? { local } : {}) });
      await status.start();
      this.#status = status;
      plugins.push(statusPlugin({ status, tokens: this.#opts.tokens, logger: this.#opts.logger }));
    }
    this.#app = await buildApp({
      config: config.server,
      tokens: this.#opts.tokens,
      publisher,
      logger: this.#log,
      readiness: this.#readiness,
      plugins,
      metrics,
      sources: { config: config.sources, dataDir: config.dataDir },
    });
    try {
      await this.#app.listen({ port: config.server.port, host: config.server.host });
    } catch (err) {
      throw listenError(err, { what: 'the HTTP server', host: config.server.host, port: config.server.port, portSetting: 'BELLHOP_HTTP_PORT (server.port)', hostSetting: 'server.host' });
    }
    this.#log.info({ url: this.url }, 'HTTP server listening');
  }

  /** At start (a throw stops it) and after every reconnect, which may have reached another broker (fatal). */
  async #checkQos2(client: MqttClient, topics: Topics): Promise<void> {
    const check = () => brokerKeepsQos2(client, topics.slackHealth());
    client.on('connect', () => {
      check().then(
        (ok) => ok || this.#fatal.raise(new Error(QOS2_DOWNGRADED)),
        () => undefined,
      );
    });
    if (client.connected && !(await check())) {
      client.end(true);
      throw new Error(QOS2_DOWNGRADED);
    }
  }

  async stop(): Promise<void> {
    await this.#app?.close();
    this.#app = undefined;
    this.#observer?.stop();
    this.#observer = undefined;
    await this.#status?.stop();
    this.#status = undefined;
    if (this.#mqtt) await this.#mqtt.endAsync();
    this.#mqtt = undefined;
  }
}
