// What /ding does once Slack delivered it: checks who may use it, rings bells and
// waits for their rang reports, publishes retained mutes, and answers the user
// privately. The Socket Mode connection itself lives in socket-app.ts.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { WebClient } from '@slack/web-api';
import type { SlackConfig } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logger.js';
import type { Clock } from '../../shared/clock.js';
import { BROADCAST_DEVICE, type Topics } from '../../shared/topics.js';
import { DEVICE_ONLINE, type RangReport } from '../../shared/messages.js';
import { describeError } from '../api.js';
import { isMuted, type DeviceDirectory } from './devices.js';
import { muteAnswer, parseCommand, ringAnswer, statusAnswer, unknownBell, unmuteAnswer, usage, type RingOutcome } from './ding.js';
import { dingCommand } from '../../shared/ding.js';
import { muteCommand, unmuteTargets } from '../../shared/mute.js';

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

export type Ack = (response?: Record<string, unknown>) => Promise<void>;

export interface DingCommandsOptions {
  slack: SlackConfig;
  topics: Topics;
  devices: DeviceDirectory;
  /** QoS 1 publish; rejects when the broker is not reachable. */
  publish: (topic: string, payload: string, retain: boolean) => Promise<unknown>;
  clock: Clock;
  logger: Logger;
  /** For chat.postEphemeral when a command comes without a usable response_url. */
  botClient?: WebClient | undefined;
}

export class DingCommands {
  #opts: DingCommandsOptions;
  #log: Logger;
  #clock: Clock;
  #devices: DeviceDirectory;
  #topics: Topics;
  #waits = new Set<{ timer: NodeJS.Timeout; finish: () => void }>();
  #answers = new Set<Promise<unknown>>();

  constructor(opts: DingCommandsOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.#clock = opts.clock;
    this.#devices = opts.devices;
    this.#topics = opts.topics;
  }

  /** Ends every wait for rang reports and waits for the answers still being sent. */
  async stop(): Promise<void> {
    for (const wait of this.#waits) {
      this.#opts.clock.clearTimeout(wait.timer);
      wait.finish();
    }
    this.#waits.clear();
    await Promise.allSettled([...this.#answers]);
  }

  async handle(ack: Ack, body: unknown): Promise<void> {
    if (!compiledPayload.Check(body)) {
      this.#log.warn('ignored a slash command without the expected fields');
      return void ack().catch(() => undefined);
    }
    const payload = body;
    const { command: cfg } = this.#opts.slack;
    const log = this.#log.child({ user: payload.user_id, channel: payload.channel_id, command: payload.command, text: payload.text });
    const reply = (text: string) => ack({ response_type: 'ephemeral', text }).catch((err: unknown) => log.warn({ err: describeError(err) }, 'could not acknowledge the command'));
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
    const name = this.#opts.slack.command.name;
    const by = payload.user_name ? `@${payload.user_name}` : payload.user_id;
    try {
      if (command.kind === 'mute') {
        const until = new Date(this.#clock.now() + (command.durationMs ?? 0));
        await this.#publishMute(command.device ?? BROADCAST_DEVICE, until, by);
        await this.#respond(payload, muteAnswer(command.device, until.toISOString(), command.durationMs ?? 0, name), log);
      } else {
        const muted = this.#devices.list().filter((b) => isMuted(b.mute, this.#clock.now())).map((b) => b.id);
        for (const id of unmuteTargets(command.device, muted)) await this.#publishMute(id, null, by);
        await this.#respond(payload, unmuteAnswer(command.device), log);
      }
    } catch (err) {
      log.error({ err: describeError(err) }, 'could not publish the mute state');
      await this.#respond(payload, ':warning: I could not reach the bells (MQTT broker) to change the mute. Try again in a moment.', log);
    }
  }

  #publishMute(deviceId: string, until: Date | null, by: string): Promise<unknown> {
    const mute = muteCommand(this.#topics, deviceId, until, by);
    return this.#opts.publish(mute.topic, mute.payload, mute.retain);
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
    const ding = dingCommand(this.#topics, ask, {
      source: 'slack',
      subject: `${this.#opts.slack.command.name} by ${payload.user_name ? `@${payload.user_name}` : payload.user_id}`,
      data: { requestedBy: payload.user_id },
    });
    const event = ding.event;
    const waitMs = this.#opts.slack.command.waitMs;
    // Listen before publishing: a bell on the same machine can answer within milliseconds.
    const answers = this.#collect(event.id, ask, waitMs);
    const sentAt = this.#clock.now();
    try {
      // Only bells that are online: a ding must never go off later, out of context.
      await Promise.all(ding.topics.map((t) => this.#opts.publish(t, ding.payload, false)));
    } catch (err) {
      answers.cancel();
      log.error({ err: describeError(err) }, 'could not publish the ding');
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
          signal: AbortSignal.timeout(this.#opts.slack.requestTimeoutMs),
        });
        if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
        return;
      }
      if (url) log.warn({ url }, 'ignored a response_url outside Slack');
      if (!this.#opts.botClient) return void log.warn('cannot answer: no response_url and no bot token for chat.postEphemeral');
      await this.#opts.botClient.chat.postEphemeral({ channel: payload.channel_id, user: payload.user_id, text });
    } catch (err) {
      log.warn({ err: describeError(err) }, 'could not answer the slash command');
    }
  }

  /** Only Slack's hooks host, or the configured API's own host (Slack-compatible servers, tests). */
  #trustedResponseUrl(url: string): boolean {
    try {
      const u = new URL(url);
      const api = new URL(this.#opts.slack.apiUrl);
      return (u.protocol === 'https:' && u.hostname === 'hooks.slack.com') || u.origin === api.origin;
    } catch {
      return false;
    }
  }
}
