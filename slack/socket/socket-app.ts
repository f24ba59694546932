// The Socket Mode app: /ding over a WebSocket to Slack, so no public URL is needed.
// Slack refreshes these connections a few times a day and networks drop them; the
// client's own reconnect is off and this part runs its own loop (refresh_requested
// reconnects at once, failures back off, a connection without hello is abandoned),
// so a failed reconnect is retried instead of leaving the command silently dead.
// The connection state is logged and exposed for /readyz.
import { randomUUID } from 'node:crypto';
import { SocketModeClient } from '@slack/socket-mode';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logger.js';
import { FatalSignal, type Part } from '../../shared/part.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { Topics } from '../../shared/topics.js';
import { connectMqtt, mqttSettings, failLoudly, subscribeChecked, type MqttClient } from '../../shared/mqtt.js';
import { describeError } from '../api.js';
import { slackLogger } from '../slack-logger.js';
import { DeviceDirectory } from './devices.js';
import { DingCommands, type Ack } from './commands.js';

export type SocketState = 'stopped' | 'connecting' | 'connected' | 'reconnecting';

export interface SocketAppOptions {
  config: Config;
  logger: Logger;
  /** A bot WebClient, for chat.postEphemeral when a command comes without a response_url. */
  botClient?: WebClient | undefined;
  clock?: Clock;
}

interface SocketEventArgs {
  ack: Ack;
  body: unknown;
  type?: string;
}

const MAX_BACKOFF_MS = 30_000;
const REFRESH_REASONS = new Set(['refresh_requested', 'warning']);

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
  #client: SocketModeClient | undefined;
  #mqtt: MqttClient | undefined;
  #state: SocketState = 'stopped';
  #stopping = false;
  #connecting = false;
  #failures = 0;
  #lastReason: string | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #helloTimer: NodeJS.Timeout | undefined;
  #commands: DingCommands | undefined;
  #connections = 0;
  #unlisten: () => void = () => undefined;
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
    mqtt.on('message', (topic, payload, packet) => this.#devices.onMessage(topic, payload, packet.retain, this.#clock.now()));
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

    const client = new SocketModeClient({
      appToken: slack.appToken,
      logger: slackLogger(this.#log),
      autoReconnectEnabled: false,
      clientPingTimeout: slack.socket.pingTimeoutMs,
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, timeout: slack.requestTimeoutMs },
    });
    this.#client = client;
    // eventemitter3 passes untyped arguments; each handler checks what it uses.
    const handlers: Record<string, (args: SocketEventArgs) => void> = {
      ws_message: (data: unknown) => this.#peek(data),
      disconnected: () => this.#onDisconnected(),
      slash_commands: (args: SocketEventArgs) => void commands.handle(args.ack, args.body),
      // Button clicks need an ack, or Slack shows the user an error.
      interactive: (args: SocketEventArgs) => void args.ack().catch(() => undefined),
      slack_event: (args: SocketEventArgs) => {
        if (args.type !== 'slash_commands' && args.type !== 'interactive') void args.ack().catch(() => undefined);
      },
    };
    for (const [event, handler] of Object.entries(handlers)) client.on(event, handler);
    this.#unlisten = () => {
      for (const [event, handler] of Object.entries(handlers)) client.off(event, handler);
    };
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#clearHelloTimer();
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#commands?.stop();
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      this.#unlisten();
      // disconnect() waits for a close handshake; do not let a dead peer hold up shutdown.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([client.disconnect().catch(() => undefined), new Promise((r) => (timer = this.#clock.setTimeout(() => r(undefined), 2000)))]);
      if (timer) this.#clock.clearTimeout(timer);
    }
    this.#setState('stopped');
    const mqtt = this.#mqtt;
    this.#mqtt = undefined;
    if (mqtt) await mqtt.endAsync();
  }

  #connect(): void {
    const client = this.#client;
    if (!client || this.#stopping || this.#connecting) return;
    this.#connecting = true;
    this.#setState(this.#connections === 0 ? 'connecting' : 'reconnecting');
    this.#helloTimer = this.#clock.setTimeout(() => {
      this.#log.warn({ timeoutMs: this.#opts.config.slack.socket.connectTimeoutMs }, 'Socket Mode: no hello from Slack in time; trying a new connection');
      void client.disconnect().catch(() => undefined);
    }, this.#opts.config.slack.socket.connectTimeoutMs);
    client.start().then(
      () => {
        this.#connecting = false;
        this.#clearHelloTimer();
        if (this.#stopping) return;
        this.#failures = 0;
        this.#lastReason = undefined;
        this.#connections += 1;
        this.#setState('connected');
        for (const listener of this.#onConnected) listener();
      },
      (err: unknown) => {
        this.#connecting = false;
        this.#clearHelloTimer();
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

  #onDisconnected(): void {
    // During a connection attempt the attempt's own failure path reschedules.
    if (this.#stopping || this.#connecting || this.#state !== 'connected') return;
    const reason = this.#lastReason;
    this.#lastReason = undefined;
    if (reason && REFRESH_REASONS.has(reason)) {
      this.#log.info({ reason }, 'Socket Mode: Slack asked for a new connection; reconnecting');
      this.#setState('reconnecting');
      this.#schedule(0);
    } else {
      this.#failures += 1;
      const delay = this.#backoff();
      this.#log.warn({ reason: reason ?? 'connection lost', retryInMs: delay }, 'Socket Mode: disconnected from Slack; reconnecting');
      this.#setState('reconnecting');
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

  /** The client handles disconnect messages itself; we only want their reason. */
  #peek(data: unknown): void {
    const text = typeof data === 'string' ? data : data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? Buffer.from(data as ArrayBuffer).toString() : '';
    if (!text.includes('"disconnect"')) return;
    try {
      const msg = JSON.parse(text) as { type?: unknown; reason?: unknown };
      if (msg.type === 'disconnect' && typeof msg.reason === 'string') this.#lastReason = msg.reason;
    } catch {
      // not JSON; the client ignores it too
    }
  }
}
