// The Pi agent: a persistent MQTT session that turns events and ding commands into
// bell strikes, reports each as `rang`, keeps its retained online/offline status
// and state heartbeat, and obeys mute, quiet hours and the catch-up policy.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { IPublishPacket } from 'mqtt';
import type { Config } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import { FatalSignal, type Part } from '../shared/part.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { Topics, BROADCAST_DEVICE } from '../shared/topics.js';
import { parseEnvelope, EnvelopeError, type Envelope } from '../shared/envelope.js';
import {
  DEVICE_OFFLINE,
  DEVICE_ONLINE,
  parseMute,
  type DeviceState,
  type RangReport,
  type SuppressReason,
} from '../shared/messages.js';
import { connectMqtt, mqttSettings, failLoudly, subscribeChecked, type MqttClient } from '../shared/mqtt.js';
import { BellController, type RingOutcome, type RingRequest } from './bell.js';
import { ReportOutbox } from '../shared/reports.js';
import { RecentIds } from '../shared/recent-ids.js';
import { QuietHours } from './quiet-hours.js';
import { MuteTracker } from './mute.js';
import { CatchUp } from './catch-up.js';
import { patternFor } from './patterns.js';
import { ReconnectBackoff } from '../shared/reconnect.js';
import { discoveryMessages } from './home-assistant.js';
import { packageVersion } from '../shared/version.js';
import type { GpioDriver } from './gpio/driver.js';

/**
 * How long past the bell's max event age an event's id is still remembered: the bell
 * compares event times with this machine's clock, which can be stepped back (a Pi has
 * no clock battery and corrects itself by NTP after boot).
 */
export const DEDUP_MARGIN_MS = 60_000;
/** The retained state after strikes goes out at most this often (mute changes and heartbeats at once). */
export const STATE_MIN_INTERVAL_MS = 1000;

export interface AgentOptions {
  config: Config;
  driver: GpioDriver;
  logger: Logger;
  clock?: Clock;
  dedupMaxIds?: number; // most event ids remembered against redeliveries (default DEFAULT_MAX_IDS); for tests
}

export interface AgentEvents {
  rang: [RangReport, Envelope];
  subscribed: [];
  state: [DeviceState];
}

export class AgentPart extends EventEmitter<AgentEvents> implements Part {
  readonly name = 'agent';
  #fatal = new FatalSignal();
  #opts: AgentOptions;
  #clock: Clock;
  #log: Logger;
  #topics: Topics;
  #bell: BellController | undefined;
  #mqtt: MqttClient | undefined;
  #reports: ReportOutbox | undefined;
  #backoff: ReconnectBackoff | undefined;
  #quiet: QuietHours | undefined;
  #mute: MuteTracker | undefined;
  #catchUp: CatchUp | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #stateDue: NodeJS.Timeout | undefined;
  #stateAt = -Infinity;
  #seen: RecentIds;
  #evictionWarnedAt = -Infinity;
  #startedAt = 0;
  #lastRing: DeviceState['lastRing'];
  #version = packageVersion();
  #onExit = () => this.#bell?.emergencyLow();

  constructor(opts: AgentOptions) {
    super();
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger.child({ part: 'agent', deviceId: opts.config.device.id });
    this.#topics = new Topics(opts.config.mqtt.topicPrefix);
    this.#seen = new RecentIds(opts.dedupMaxIds);
  }

  get deviceId(): string {
    return this.#opts.config.device.id;
  }

  /** Event ids remembered against redeliveries right now (bounded; see RecentIds). */
  get rememberedIds(): number {
    return this.#seen.size;
  }

  get connected(): boolean {
    return this.#mqtt?.connected ?? false;
  }

  /** Drives the pin low synchronously (for uncaught-error paths). */
  emergencyLow(): void {
    this.#bell?.emergencyLow();
  }

  /** What the retained heartbeat says right now. */
  state(): DeviceState {
    const now = this.#clock.now();
    const state: DeviceState = {
      deviceId: this.deviceId,
      version: this.#version,
      uptimeSeconds: Math.round((now - this.#startedAt) / 1000),
      muted: this.#mute?.isMuted(now) ?? false,
      quiet: this.#quiet?.isQuiet(now) ?? false,
      at: new Date(now).toISOString(),
    };
    if (this.#lastRing) state.lastRing = this.#lastRing;
    return state;
  }

  onFatal(listener: (err: Error) => void): void {
    this.#fatal.on(listener);
  }

  async start(): Promise<void> {
    const { config, driver } = this.#opts;
    const device = config.device;
    // Built first: a bad time zone must fail the start, not the first quiet night.
    this.#quiet = new QuietHours(device.quietHours);
    this.#bell = new BellController(driver, device.bell, this.#clock, this.#log);
    this.#bell.emergencyLow();
    process.on('exit', this.#onExit);
    this.#mute = new MuteTracker(join(config.dataDir, `mute-${device.id}.json`), this.#log);
    this.#mute.load();
    this.#catchUp = new CatchUp(device.catchUp, this.#clock);
    this.#startedAt = this.#clock.now();

    const status = this.#topics.device(device.id, 'status');
    const client = connectMqtt(mqttSettings(config, device.mqtt), {
      clientId: device.id,
      clean: false,
      will: { topic: status, payload: Buffer.from(DEVICE_OFFLINE), qos: 1, retain: true },
    });
    failLoudly(client, config, "device.mqtt.username and device.mqtt.password (the bell's broker login)", (err) => this.#fatal.raise(err));
    this.#mqtt = client;
    this.#reports = new ReportOutbox(client, { onDrop: (n) => this.#log.warn({ dropped: n }, 'broker away too long: oldest rang reports given up') });
    this.#backoff = new ReconnectBackoff(client, { baseMs: config.mqtt.reconnectMs, maxMs: device.reconnectMaxMs });
    this.#backoff.start();
    // Ack each message only after the bell has dealt with it, so a crash mid-ring
    // leaves the event with the broker for redelivery.
    client.handleMessage = (packet, done) => {
      this.#handle(packet as IPublishPacket)
        .catch((err: unknown) => this.#log.error({ err }, 'failed to handle a message'))
        .finally(() => done());
    };
    const filters = [
      ...device.events.map((t) => this.#topics.event(t)),
      this.#topics.device(device.id, 'ding'),
      this.#topics.device(BROADCAST_DEVICE, 'ding'),
      this.#topics.device(device.id, 'mute'),
      this.#topics.device(BROADCAST_DEVICE, 'mute'),
    ];
    client.on('connect', (connack) => {
      this.#log.info({ sessionPresent: connack.sessionPresent }, 'connected to MQTT broker');
      client.publish(status, DEVICE_ONLINE, { qos: 1, retain: true });
      if (device.homeAssistant.enabled) {
        for (const m of discoveryMessages(config, this.#version)) client.publish(m.topic, m.payload, { qos: 1, retain: true });
      }
      subscribeChecked(
        client,
        { ...Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])), [this.#topics.device(BROADCAST_DEVICE, 'rollcall')]: { qos: 0 as const } },
        { log: this.#log, refusedMessage: 'broker refused subscriptions (ACL?)' },
        () => {
          this.#publishState();
          this.emit('subscribed');
        },
      );
    });
    client.on('offline', () => this.#log.warn({ retryInMs: client.options.reconnectPeriod }, 'MQTT broker unreachable; retrying'));
    client.on('error', (err) => this.#log.warn({ err: err.message }, 'MQTT error'));
    this.#scheduleHeartbeat();
  }

  async stop(): Promise<void> {
    if (this.#heartbeat) this.#clock.clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
    if (this.#stateDue) this.#clock.clearTimeout(this.#stateDue);
    this.#stateDue = undefined;
    this.#backoff?.stop();
    this.#backoff = undefined;
    this.#bell?.stop();
    const client = this.#mqtt;
    this.#mqtt = undefined;
    this.#reports?.stop();
    this.#reports = undefined;
    if (client) {
      if (client.connected) {
        await client
          .publishAsync(this.#topics.device(this.deviceId, 'status'), DEVICE_OFFLINE, { qos: 1, retain: true })
          .catch(() => undefined);
      }
      await client.endAsync();
    }
    this.#opts.driver.close();
    process.off('exit', this.#onExit);
  }

  #scheduleHeartbeat(): void {
    this.#heartbeat = this.#clock.setTimeout(() => {
      this.#publishState();
      this.#scheduleHeartbeat();
    }, this.#opts.config.device.heartbeatSeconds * 1000);
  }

  /**
   * The retained state after a strike: at once, or at most once per STATE_MIN_INTERVAL_MS
   * with the latest lastRing, so a run of strikes is not a retained write (on disk, to every
   * subscriber) each; the rang reports say every strike at once.
   */
  #publishStateSoon(): void {
    if (this.#stateDue) return;
    const wait = this.#stateAt + STATE_MIN_INTERVAL_MS - this.#clock.now();
    if (wait <= 0) return this.#publishState();
    this.#stateDue = this.#clock.setTimeout(() => {
      this.#stateDue = undefined;
      this.#publishState();
    }, wait);
  }

  #publishState(): void {
    const client = this.#mqtt;
    // While offline a heartbeat would only queue up stale states; the next one will do.
    if (!client?.connected) return;
    if (this.#stateDue) this.#clock.clearTimeout(this.#stateDue);
    this.#stateDue = undefined;
    this.#stateAt = this.#clock.now();
    const state = this.state();
    client.publish(this.#topics.device(this.deviceId, 'state'), JSON.stringify(state), { qos: 1, retain: true });
    this.emit('state', state);
  }

  /** Asked by a watcher that gets no retained copies by wildcard (shared/roll-call.ts); at QoS 0, so none waits for a bell away. */
  #answerRollCall(): void {
    this.#mqtt?.publish(this.#topics.device(this.deviceId, 'status'), DEVICE_ONLINE, { qos: 1, retain: true });
    this.#publishState();
  }

  async #handle(packet: IPublishPacket): Promise<void> {
    const route = this.#topics.parse(packet.topic);
    if (!route) return;
    if (route.kind === 'device' && route.channel === 'mute') return this.#handleMute(packet, route.deviceId);
    if (route.kind === 'device' && route.channel === 'rollcall') return this.#answerRollCall();
    const isDing = route.kind === 'device' && route.channel === 'ding';
    if (route.kind === 'event' && !this.#opts.config.device.events.includes(route.type)) return;
    if (!isDing && route.kind !== 'event') return;
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(packet.payload as Buffer);
    } catch (err) {
      if (err instanceof EnvelopeError) return void this.#log.warn({ topic: packet.topic, err: err.message }, 'ignored a malformed message');
      throw err;
    }
    const eventId = envelope.id;
    // A copy of an event already handled is acked with no strike and no second report.
    if (!this.#remember(envelope)) return void this.#log.debug({ eventId }, 'duplicate delivery; already handled');
    const decision = this.#decide(envelope, isDing, packet.retain);
    const outcome: RingOutcome =
      'suppressed' in decision ? { eventId: envelope.id, strikes: 0, suppressed: decision.suppressed } : await this.#bell!.ring(decision.request);
    const at = new Date(this.#clock.now()).toISOString();
    const report: RangReport = { eventId: envelope.id, deviceId: this.deviceId, type: envelope.type, strikes: outcome.strikes, at };
    if (outcome.suppressed) report.suppressed = outcome.suppressed;
    // Debug, not info: a line per event is what the default deployment could least afford
    // (`--log-level debug` follows each event id; the rang report says the same to everyone).
    this.#log.debug({ eventId, strikes: report.strikes, suppressed: report.suppressed, type: envelope.type }, 'bell handled event');
    this.#reports?.publish(this.#topics.device(this.deviceId, 'rang'), JSON.stringify(report));
    if (outcome.strikes > 0) {
      this.#lastRing = { eventId: envelope.id, at };
      this.#publishStateSoon();
    }
    this.emit('rang', report, envelope);
  }

  /**
   * False if the event's id was handled already. An id is kept while a copy of the event
   * could still ring: until its time is older than device.bell.maxEventAgeSeconds (which
   * cannot be turned off) plus DEDUP_MARGIN_MS. A copy with a later time (a sender's
   * retry the server stamped afresh) keeps it until that copy is too old. It is kept at
   * least that long after it first came, too, so an event that came already too old is
   * reported once. An event time in the future keeps the id longer, as such an event can
   * ring until then; the cap of RecentIds bounds memory all the same.
   */
  #remember(envelope: Envelope): boolean {
    const now = this.#clock.now();
    const windowMs = this.#opts.config.device.bell.maxEventAgeSeconds * 1000 + DEDUP_MARGIN_MS;
    const time = Date.parse(envelope.time);
    // An unreadable time never rings (the controller refuses it); keep the id from its arrival.
    const ringableUntil = Number.isFinite(time) ? time + windowMs : -Infinity;
    const known = this.#seen.has(envelope.id, now);
    const keepUntil = known ? ringableUntil : Math.max(ringableUntil, now + windowMs);
    const evicted = this.#seen.evictedEarly;
    const fresh = this.#seen.add(envelope.id, keepUntil, now);
    if (this.#seen.evictedEarly > evicted && now - this.#evictionWarnedAt >= 60_000) {
      this.#evictionWarnedAt = now;
      this.#log.warn(
        { remembered: this.#seen.size, forgottenEarly: this.#seen.evictedEarly },
        'more events than the redelivery memory holds within the max event age: the oldest ids are forgotten early, so a late redelivery of one could ring again',
      );
    }
    return fresh;
  }

  /** Mute, quiet hours and catch-up; the controller then applies the safety rules. */
  #decide(envelope: Envelope, isDing: boolean, retained: boolean): { request: RingRequest } | { suppressed: SuppressReason } {
    const device = this.#opts.config.device;
    const eventId = envelope.id;
    const now = this.#clock.now();
    if (isDing && retained) {
      this.#log.warn({ eventId }, 'ignored a retained ding command: dings must never be retained (it would ring again after every reconnect)');
      return { suppressed: 'expired' };
    }
    if (this.#mute!.isMuted(now)) return { suppressed: 'muted' };
    if (this.#quiet!.isQuiet(now) && !this.#quiet!.bypasses(envelope.type)) return { suppressed: 'quiet' };
    // The pattern is the device's own: nothing in a message can lengthen a pulse.
    const pattern = patternFor(device.bell, envelope.type);
    const request: RingRequest = { eventId: envelope.id, type: envelope.type, time: envelope.time, ...pattern };
    if (isDing) return { request: { ...request, ttlMs: device.dingTtlSeconds * 1000 } };
    const ageMs = now - Date.parse(envelope.time);
    // Events past maxEventAgeSeconds are the controller's to refuse; they open no catch-up.
    if (ageMs > device.bell.maxEventAgeSeconds * 1000) return { request };
    switch (this.#catchUp!.judge(ageMs)) {
      case 'live':
        return { request };
      case 'skip':
        return { suppressed: 'too-old' };
      case 'caught-up':
        return { suppressed: 'caught-up' };
      case 'ring-once':
        this.#log.info({ eventId, ageMs }, 'events waited while the bell was offline: one strike for all of them');
        return { request: { ...request, strikes: 1 } };
    }
  }

  #handleMute(packet: IPublishPacket, deviceId: string): void {
    const state = parseMute(packet.payload as Buffer);
    if (!state) return void this.#log.warn({ topic: packet.topic }, 'ignored a malformed mute message');
    if (this.#mute!.set(deviceId === BROADCAST_DEVICE ? 'all' : 'device', state)) this.#publishState();
  }
}
