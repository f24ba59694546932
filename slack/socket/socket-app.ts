// The Socket Mode app: /ding over a WebSocket to Slack, so no public URL is needed.
// Slack refreshes these connections a few times a day and networks drop them; the
// client's own reconnect is off and this part runs its own loop (failures back off, a
// connection without hello is abandoned), so a failed reconnect is retried instead of
// leaving the command silently dead. When Slack asks for a refresh, the new connection is
// opened while the old one still serves and the old one is closed after the new one's
// hello (see connection.ts), so no envelope comes while nothing listens.
// The connection state is logged and exposed for /readyz.
import { randomUUID } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logger.js';
import { FatalSignal, type Part } from '../../shared/part.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { Topics } from '../../shared/topics.js';
import { connectMqtt, mqttSettings, failLoudly, subscribeChecked, type MqttClient } from '../../shared/mqtt.js';
import { RollCall } from '../../shared/roll-call.js';
import { describeError } from '../api.js';
import { slackLogger } from '../slack-logger.js';
import { DeviceDirectory } from './devices.js';
import { DingCommands, type Ack } from './commands.js';
import { Connection, EnvelopeGate, HANDOVER_REASONS, type EnvelopeArgs } from './connection.js';

export type SocketState = 'stopped' | 'connecting' | 'connected' | 'reconnecting';

export interface SocketAppOptions {
  config: Config;
  logger: Logger;
  /** A bot WebClient, for chat.postEphemeral when a command comes without a response_url. */
  botClient?: WebClient | undefined;
  clock?: Clock;
}

const MAX_BACKOFF_MS = 30_000;
/** Slack allows three seconds for an ack: an old connection waits that long for its envelopes' acks. */
const ACK_WAIT_MS = 3000;
/** A close handshake a dead peer never finishes must not hold anything up. */
const CLOSE_WAIT_MS = 2000;

const APP_TOKEN_ERRORS = new Set(['invalid_auth', 'not_authed', 'not_allowed_token_type', 'token_revoked', 'account_inactive']);
const APP_TOKEN_FIX =
  'set SLACK_APP_TOKEN (or slack.appToken) to an app-level token (xapp-…) with the connections:write scope, from Basic Information → App-Level Tokens of your Slack app, with Socket Mode turned on, and restart';

export class SocketApp implements Part {
  readonly name = 'slack-socket';
  #fatal = new FatalSignal();
  #opts: SocketAppOptions;
  #log: Logger;
  #topics: Topics;
  #clock: Clock;
  #devices: DeviceDirectory;
  /** The connection that said hello last: envelopes come on it (and, during a handover, on the old one). */
  #serving: Connection | undefined;
  /** A connection waiting for its hello. */
  #opening: Connection | undefined;
  /** Old connections closing once their envelopes are acked. */
  #closing = new Set<Connection>();
  #envelopes = new EnvelopeGate();
  #mqtt: MqttClient | undefined;
  #state: SocketState = 'stopped';
  #stopping = false;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #helloTimer: NodeJS.Timeout | undefined;
  #commands: DingCommands | undefined;
  #connections = 0;
  #onConnected: Array<() => void> = [];
  #saidAppTokenFix = false;

  constructor(opts: SocketAppOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ part: 'slack-socket' });
    this.#topics = new Topics(opts.config.mqtt.topicPrefix);
    this.#clock = opts.clock ?? systemClock;
    this.#devices = new DeviceDirectory(this.#topics);
  }

  get state(): SocketState {
    return this.#state;
  }

  /** For /readyz: true while Slack can reach the slash command. */
  get connected(): boolean {
    return this.#state === 'connected';
  }

  /** The slash command it answers (slack.command.name). */
  get commandName(): string {
    return this.#opts.config.slack.command.name;
  }

  /** Connections established so far (a reconnect adds one). */
  get connections(): number {
    return this.#connections;
  }

  /** Called at each (re)connection: the banner says "answered over Socket Mode" only then. */
  onConnected(listener: () => void): void {
    this.#onConnected.push(listener);
  }

  onFatal(listener: (err: Error) => void): void {
    this.#fatal.on(listener);
  }

  async start(): Promise<void> {
    const { config } = this.#opts;
    const slack = config.slack;
    if (!slack.appToken) throw new Error('slack.appToken (SLACK_APP_TOKEN) is needed for Socket Mode');
    this.#stopping = false;

    const mqtt = connectMqtt(mqttSettings(config, slack.mqtt), {
      clientId: `bellhop-slack-app-${process.pid}-${randomUUID().slice(0, 8)}`,
      clean: true,
    });
    failLoudly(mqtt, config, "slack.mqtt.username and slack.mqtt.password (the Slack part's broker login)", (err) => this.#fatal.raise(err));
    this.#mqtt = mqtt;
    const rollCall = new RollCall(mqtt, this.#topics, this.#devices.filters());
    mqtt.on('message', (topic, payload, packet) => {
      const route = this.#topics.parse(topic);
      if (route?.kind === 'device') rollCall.heard(route.deviceId, route.channel);
      this.#devices.onMessage(topic, payload, packet.retain, this.#clock.now());
    });
    rollCall.start();
    // The bells' retained statuses arrive with the subscription; wait a little for them so
    // the first /ding knows the bells, but never block on a broker that is down.
    let subscribed: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, 3000);
      subscribed = () => {
        this.#clock.clearTimeout(timer);
        resolve();
      };
    });
    mqtt.on('connect', () => {
      // start() waits for the SUBACK, or for a failed subscribe, never longer than the timer.
      const done = () => subscribed();
      subscribeChecked(
        mqtt,
        Object.fromEntries(this.#devices.filters().map((f) => [f, { qos: 1 as const }])),
        { log: this.#log, refusedMessage: 'broker refused subscriptions (ACL? the app needs the slack role)', onFailure: done },
        done,
      );
    });
    mqtt.on('error', (err) => this.#log.warn({ err: err.message }, 'MQTT error'));
    await ready;

    const commands = new DingCommands({
      slack,
      topics: this.#topics,
      devices: this.#devices,
      publish: (topic, payload, retain) => {
        if (!mqtt.connected) return Promise.reject(new Error('not connected to the MQTT broker'));
        return mqtt.publishAsync(topic, payload, { qos: 1, retain });
      },
      clock: this.#clock,
      logger: this.#log,
      botClient: this.#opts.botClient,
    });
    this.#commands = commands;
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#clearHelloTimer();
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#commands?.stop();
    const all = [this.#serving, this.#opening, ...this.#closing].filter((c): c is Connection => c !== undefined);
    this.#serving = undefined;
    this.#opening = undefined;
    this.#closing.clear();
    for (const conn of all) conn.dispose();
    await Promise.all(all.map((conn) => conn.close(this.#clock, 0, CLOSE_WAIT_MS)));
    this.#setState('stopped');
    const mqtt = this.#mqtt;
    this.#mqtt = undefined;
    if (mqtt) await mqtt.endAsync();
  }

  #connect(): void {
    if (this.#stopping || this.#opening) return;
    const slack = this.#opts.config.slack;
    const conn: Connection = new Connection(
      {
        appToken: slack.appToken!,
        logger: slackLogger(this.#log),
        autoReconnectEnabled: false,
        clientPingTimeout: slack.socket.pingTimeoutMs,
        clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, timeout: slack.requestTimeoutMs },
      },
      {
        envelope: (args, ack) => this.#onEnvelope(args, ack),
        disconnectRequested: (reason) => this.#onDisconnectRequested(conn, reason),
        disconnected: () => this.#onDisconnected(conn),
      },
    );
    this.#opening = conn;
    // During a handover the old connection still serves: the state stays `connected`.
    if (!this.#serving) this.#setState(this.#connections === 0 ? 'connecting' : 'reconnecting');
    this.#helloTimer = this.#clock.setTimeout(() => {
      this.#log.warn({ timeoutMs: slack.socket.connectTimeoutMs }, 'Socket Mode: no hello from Slack in time; trying a new connection');
      void conn.client.disconnect().catch(() => undefined);
    }, slack.socket.connectTimeoutMs);
    conn.start().then(
      () => {
        this.#opening = undefined;
        this.#clearHelloTimer();
        if (this.#stopping) return void conn.close(this.#clock, 0, CLOSE_WAIT_MS);
        this.#failures = 0;
        const old = this.#serving;
        this.#serving = conn;
        this.#connections += 1;
        this.#setState('connected');
        if (old) this.#retire(old);
        for (const listener of this.#onConnected) listener();
      },
      (err: unknown) => {
        this.#opening = undefined;
        this.#clearHelloTimer();
        conn.dispose();
        if (this.#stopping) return;
        this.#failures += 1;
        const delay = this.#backoff();
        const code = (err as { data?: { error?: unknown } } | undefined)?.data?.error;
        if (typeof code === 'string' && APP_TOKEN_ERRORS.has(code) && !this.#saidAppTokenFix) {
          // Said once: every retry fails the same way until someone changes the token.
          this.#saidAppTokenFix = true;
          this.#log.error({ reason: code }, `Slack refused the app token (${code}): ${APP_TOKEN_FIX}`);
        }
        this.#log.warn({ err: describeError(err), retryInMs: delay, attempt: this.#failures }, 'Socket Mode: could not connect to Slack; will retry');
        this.#schedule(delay);
      },
    );
  }

  /** Every envelope, from whichever connection, once (a repeat is only acked again). */
  #onEnvelope(args: EnvelopeArgs, ack: Ack): void {
    const admitted = this.#envelopes.admit(args.envelope_id, ack);
    if (!admitted) return;
    if (args.type === 'slash_commands' && this.#commands) return void this.#commands.handle(admitted, args.body);
    // Button clicks need an ack, or Slack shows the user an error; events would be sent again.
    void admitted().catch(() => undefined);
  }

  #onDisconnectRequested(conn: Connection, reason: string): void {
    if (conn !== this.#serving || conn.handingOver || !HANDOVER_REASONS.has(reason)) return;
    conn.handingOver = true;
    this.#log.info({ reason }, 'Socket Mode: Slack asked for a new connection; opening it before the old one closes');
    this.#connect();
  }

  /** The old connection, replaced by one that said hello, closes once its envelopes are acked. */
  #retire(old: Connection): void {
    this.#closing.add(old);
    void old.close(this.#clock, ACK_WAIT_MS, CLOSE_WAIT_MS).finally(() => {
      old.dispose();
      this.#closing.delete(old);
    });
  }

  #onDisconnected(conn: Connection): void {
    // A connection waiting for its hello fails its start(), which retries.
    if (conn === this.#opening || conn !== this.#serving) return;
    conn.dispose();
    this.#serving = undefined;
    if (this.#stopping) return;
    this.#setState('reconnecting');
    // A handover under way (Slack cut the old connection before the new one's hello): it goes on.
    if (this.#opening || this.#retryTimer) return;
    const reason = conn.reason;
    if (reason && HANDOVER_REASONS.has(reason)) {
      this.#log.info({ reason }, 'Socket Mode: Slack asked for a new connection; reconnecting');
      this.#schedule(0);
    } else {
      this.#failures += 1;
      const delay = this.#backoff();
      this.#log.warn({ reason: reason || 'connection lost', retryInMs: delay }, 'Socket Mode: disconnected from Slack; reconnecting');
      this.#schedule(delay);
    }
  }

  #schedule(delayMs: number): void {
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, delayMs);
  }

  #backoff(): number {
    const base = this.#opts.config.slack.socket.reconnectMs;
    return Math.min(MAX_BACKOFF_MS, base * 2 ** Math.min(this.#failures - 1, 10));
  }

  #clearHelloTimer(): void {
    if (this.#helloTimer) this.#clock.clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
  }

  #setState(state: SocketState): void {
    if (this.#state === state) return;
    this.#state = state;
    const level = state === 'reconnecting' ? 'warn' : 'info';
    this.#log[level]({ socketMode: state }, `Socket Mode ${state}`);
  }
}
