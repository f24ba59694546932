// The Socket Mode app: /ding over a WebSocket to Slack, so no public URL is needed.
// Slack refreshes these connections a few times a day and networks drop them; the
// client's own reconnect is off and this part runs its own loop (refresh_requested
// reconnects at once, failures back off, a connection without hello is abandoned),
// so a failed reconnect is retried instead of leaving the command silently dead.
// The connection state is logged and exposed for /readyz.
import { randomUUID } from 'node:crypto';
import { SocketModeClient } from '@slack/socket-mode';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logger.js';
import type { Part } from '../../shared/part.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { Topics, BROADCAST_DEVICE } from '../../shared/topics.js';
import { toEnvelope } from '../../shared/envelope.js';
import { DEVICE_ONLINE, type MuteState, type RangReport } from '../../shared/messages.js';
import { connectMqtt, mqttSettings, type MqttClient } from '../../shared/mqtt.js';
import { slackLogger } from './slack-logger.js';
import { DeviceDirectory, isMuted } from './devices.js';
import { muteAnswer, parseCommand, ringAnswer, statusAnswer, unknownBell, unmuteAnswer, usage, type RingOutcome } from './ding.js';

export type SocketState = 'stopped' | 'connecting' | 'connected' | 'reconnecting';

export interface SocketAppOptions {
  config: Config;
  logger: Logger;
  /** A bot WebClient, for chat.postEphemeral when a command comes without a response_url. */
  botClient?: WebClient | undefined;
  clock?: Clock;
}

const SlashCommandPayload = Type.Object({
  command: Type.String(),
  text: Type.String(),
  user_id: Type.String(),
  user_name: Type.Optional(Type.String()),
  channel_id: Type.String(),
  response_url: Type.Optional(Type.String()),
});
type SlashCommandPayload = Static<typeof SlashCommandPayload>;
const compiledPayload = TypeCompiler.Compile(SlashCommandPayload);

type Ack = (response?: Record<string, unknown>) => Promise<void>;
interface SocketEventArgs {
  ack: Ack;
  body: unknown;
  type?: string;
}

const MAX_BACKOFF_MS = 30_000;
const REFRESH_REASONS = new Set(['refresh_requested', 'warning']);

export class SocketApp implements Part {
  readonly name = 'slack-socket';
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
  #waits = new Set<{ timer: NodeJS.Timeout; finish: () => void }>();
  #answers = new Set<Promise<unknown>>();
  #connections = 0;
  #unlisten: () => void = () => undefined;

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

  /** Connections established so far (a reconnect adds one). */
  get connections(): number {
    return this.#connections;
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
      mqtt.subscribe(Object.fromEntries(this.#devices.filters().map((f) => [f, { qos: 1 as const }])), (err, granted) => {
        subscribed();
        if (err) return void this.#log.error({ err: err.message }, 'subscribe failed');
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length > 0) this.#log.error({ refused }, 'broker refused subscriptions (ACL? the app needs the slack role)');
      });
    });
    mqtt.on('error', (err) => this.#log.warn({ err: err.message }, 'MQTT error'));
    await ready;

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
      slash_commands: (args: SocketEventArgs) => void this.#onCommand(args),
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
    for (const wait of this.#waits) {
      this.#clock.clearTimeout(wait.timer);
      wait.finish();
    }
    this.#waits.clear();
    await Promise.allSettled([...this.#answers]);
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
      },
      (err: unknown) => {
        this.#connecting = false;
        this.#clearHelloTimer();
        if (this.#stopping) return;
        this.#failures += 1;
        const delay = this.#backoff();
        this.#log.warn({ err: describe(err), retryInMs: delay, attempt: this.#failures }, 'Socket Mode: could not connect to Slack; will retry');
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

  async #onCommand({ ack, body }: SocketEventArgs): Promise<void> {
    if (!compiledPayload.Check(body)) {
      this.#log.warn('ignored a slash command without the expected fields');
      return void ack().catch(() => undefined);
    }
    const payload = body;
    const { command: cfg } = this.#opts.config.slack;
    const log = this.#log.child({ user: payload.user_id, channel: payload.channel_id, command: payload.command, text: payload.text });
    const reply = (text: string) => ack({ response_type: 'ephemeral', text }).catch((err: unknown) => log.warn({ err: describe(err) }, 'could not acknowledge the command'));
    if (payload.command !== cfg.name) return void reply(`This app answers ${cfg.name}, not ${payload.command}.`);
    const command = parseCommand(payload.text);
    log.info({ kind: command.kind }, 'slash command');
    const mayRing =
      (cfg.allowUsers.length === 0 || cfg.allowUsers.includes(payload.user_id)) &&
      (cfg.allowChannels.length === 0 || cfg.allowChannels.includes(payload.channel_id));
    const now = this.#clock.now();
    switch (command.kind) {
      case 'help':
        return void reply(usage(cfg.name));
      case 'invalid':
        return void reply(`${command.message}\n${usage(cfg.name)}`);
      case 'status':
        return void reply(statusAnswer(this.#devices.list(), this.#devices.allMute, now));
      default:
        break;
    }
    if (!mayRing) {
      log.info('refused: not on the allowlist');
      return void reply(`Sorry, ringing the bells from here is limited to a few people and channels. Ask whoever runs bellhop to add you (slack.command.allowUsers / allowChannels).`);
    }
    if (command.kind === 'mute' || command.kind === 'unmute') {
      // Acknowledge first: the broker may be slow, and Slack allows three seconds.
      await ack().catch(() => undefined);
      return this.#track(this.#answerMute(payload, command, log));
    }
    const target = command.device;
    await reply(target ? `:bell: Ringing *${target}*…` : ':bell: Ringing the bells…');
    return this.#track(this.#answerRing(payload, target, log));
  }

  async #answerMute(payload: SlashCommandPayload, command: { kind: 'mute' | 'unmute'; device?: string; durationMs?: number }, log: Logger): Promise<void> {
    const name = this.#opts.config.slack.command.name;
    const by = payload.user_name ? `@${payload.user_name}` : payload.user_id;
    try {
      if (command.kind === 'mute') {
        const until = new Date(this.#clock.now() + (command.durationMs ?? 0)).toISOString();
        await this.#publishMute(command.device ?? BROADCAST_DEVICE, { until, by });
        await this.#respond(payload, muteAnswer(command.device, until, command.durationMs ?? 0, name), log);
      } else {
        const devices = command.device
          ? [command.device]
          : [BROADCAST_DEVICE, ...this.#devices.list().filter((b) => isMuted(b.mute, this.#clock.now())).map((b) => b.id)];
        for (const id of devices) await this.#publishMute(id, { until: null, by });
        await this.#respond(payload, unmuteAnswer(command.device), log);
      }
    } catch (err) {
      log.error({ err: describe(err) }, 'could not publish the mute state');
      await this.#respond(payload, ':warning: I could not reach the bells (MQTT broker) to change the mute. Try again in a moment.', log);
    }
  }

  #publishMute(deviceId: string, state: MuteState): Promise<unknown> {
    const mqtt = this.#mqtt;
    if (!mqtt?.connected) return Promise.reject(new Error('not connected to the MQTT broker'));
    return mqtt.publishAsync(this.#topics.device(deviceId, 'mute'), JSON.stringify(state), { qos: 1, retain: true });
  }

  async #answerRing(payload: SlashCommandPayload, target: string | undefined, log: Logger): Promise<void> {
    const now = this.#clock.now();
    const known = this.#devices.list();
    let ask: string[];
    let offline = known.filter((b) => b.status !== DEVICE_ONLINE);
    if (target) {
      const bell = this.#devices.get(target);
      if (!bell?.status) return this.#respond(payload, unknownBell(target, known), log);
      if (bell.status !== DEVICE_ONLINE) return this.#respond(payload, ringAnswer({ asked: [], offline: [bell], waitedMs: 0, now }), log);
      ask = [target];
      offline = [];
    } else {
      ask = known.filter((b) => b.status === DEVICE_ONLINE).map((b) => b.id);
      if (known.length > 0 && ask.length === 0) return this.#respond(payload, ringAnswer({ asked: [], offline, waitedMs: 0, now }), log);
    }
    const event = toEnvelope(
      { type: 'bell.test', subject: `${this.#opts.config.slack.command.name} by ${payload.user_name ? `@${payload.user_name}` : payload.user_id}`, data: { requestedBy: payload.user_id } },
      { source: 'slack' },
    );
    const waitMs = this.#opts.config.slack.command.waitMs;
    // Listen before publishing: a bell on the same machine can answer within milliseconds.
    const answers = this.#collect(event.id, ask, waitMs);
    const sentAt = this.#clock.now();
    try {
      // Only bells that are online: a ding must never go off later, out of context.
      const topics = ask.length > 0 ? ask.map((id) => this.#topics.device(id, 'ding')) : [this.#topics.device(BROADCAST_DEVICE, 'ding')];
      const mqtt = this.#mqtt;
      if (!mqtt?.connected) throw new Error('not connected to the MQTT broker');
      await Promise.all(topics.map((t) => mqtt.publishAsync(t, JSON.stringify(event), { qos: 1, retain: false })));
    } catch (err) {
      answers.cancel();
      log.error({ err: describe(err) }, 'could not publish the ding');
      return this.#respond(payload, ':warning: I could not reach the bells (MQTT broker). Try again in a moment.', log);
    }
    const reports = await answers.done;
    const outcome: RingOutcome = {
      asked: (ask.length > 0 ? ask : [...reports.keys()]).map((id) => {
        const got = reports.get(id);
        return got ? { id, report: got.report, afterMs: got.receivedAt - sentAt } : { id };
      }),
      offline,
      waitedMs: waitMs,
      now: this.#clock.now(),
    };
    log.info({ eventId: event.id, rang: [...reports.keys()] }, 'ding answered');
    await this.#respond(payload, ringAnswer(outcome), log);
  }

  /** Collects rang reports for one ding until every asked bell answered or the wait is over. */
  #collect(eventId: string, expect: string[], waitMs: number): { done: Promise<Map<string, { report: RangReport; receivedAt: number }>>; cancel: () => void } {
    const got = new Map<string, { report: RangReport; receivedAt: number }>();
    let finish: () => void = () => undefined;
    const done = new Promise<Map<string, { report: RangReport; receivedAt: number }>>((resolve) => {
      const off = this.#devices.onRang((report, receivedAt) => {
        if (report.eventId !== eventId || got.has(report.deviceId)) return;
        got.set(report.deviceId, { report, receivedAt });
        if (expect.length > 0 && expect.every((id) => got.has(id))) finish();
      });
      const wait = {
        timer: this.#clock.setTimeout(() => finish(), waitMs),
        finish: () => finish(),
      };
      this.#waits.add(wait);
      finish = () => {
        off();
        this.#clock.clearTimeout(wait.timer);
        this.#waits.delete(wait);
        resolve(got);
      };
    });
    return { done, cancel: () => finish() };
  }

  #track(work: Promise<void>): Promise<void> {
    this.#answers.add(work);
    return work.finally(() => this.#answers.delete(work));
  }

  /** Answers the user privately: through the command's response_url, else chat.postEphemeral. */
  async #respond(payload: SlashCommandPayload, text: string, log: Logger): Promise<void> {
    const url = payload.response_url;
    try {
      if (url && this.#trustedResponseUrl(url)) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
          signal: AbortSignal.timeout(this.#opts.config.slack.requestTimeoutMs),
        });
        if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
        return;
      }
      if (url) log.warn({ url }, 'ignored a response_url outside Slack');
      if (!this.#opts.botClient) return void log.warn('cannot answer: no response_url and no bot token for chat.postEphemeral');
      await this.#opts.botClient.chat.postEphemeral({ channel: payload.channel_id, user: payload.user_id, text });
    } catch (err) {
      log.warn({ err: describe(err) }, 'could not answer the slash command');
    }
  }

  /** Only Slack's hooks host, or the configured API's own host (Slack-compatible servers, tests). */
  #trustedResponseUrl(url: string): boolean {
    try {
      const u = new URL(url);
      const api = new URL(this.#opts.config.slack.apiUrl);
      return (u.protocol === 'https:' && u.hostname === 'hooks.slack.com') || u.origin === api.origin;
    } catch {
      return false;
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const data = (err as { data?: { error?: unknown } }).data;
    return typeof data?.error === 'string' ? `${err.message} (${data.error})` : err.message;
  }
  return String(err);
}
