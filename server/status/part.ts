// The status part: listens on the broker to what every other part already says
// (events, bell status and heartbeats, rang reports, Slack delivery reports) and keeps
// the picture the status page shows. It never asks anyone; it only listens.
import { EventEmitter } from 'node:events';
import type { IPublishPacket } from 'mqtt';
import { subscribeChecked, type MqttClient } from '../../shared/mqtt.js';
import type { Logger } from '../../shared/logger.js';
import type { Part } from '../../shared/part.js';
import type { StatusConfig } from '../../shared/config/schema.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { BROADCAST_DEVICE, Topics } from '../../shared/topics.js';
import { EnvelopeError, parseEnvelope } from '../../shared/envelope.js';
import { parseMute, parseSlackHealth, reportedEventIds, type MuteState, type SlackHealth } from '../../shared/messages.js';
import { EventPublisher } from '../publisher.js';
import { EventStore, type RecentFilter } from './store.js';
import { DeviceBoard } from './devices.js';
import { MinuteCounter, MINUTE_MS } from './counter.js';
import { deliveryStep, rangStep } from './describe.js';
import { parseDeviceState, parseSeenDelivery, parseSeenRang } from './wire.js';
import type { DevicesReply, DeviceView, EventSummary, MuteReply, RingReply, StatsReply, Trace, TraceStep } from './schemas.js';
import { dingCommand } from '../../shared/ding.js';
import { muteCommand, unmuteTargets } from '../../shared/mute.js';
import { RetainedPublisher } from './retained.js';
import { RollCall } from '../../shared/roll-call.js';
import type { LocalBroker } from '../../shared/local-broker.js';

/** Events handed over in process are never retained copies. */
const LOCAL_PACKET = { retain: false } as IPublishPacket;

export interface StatusPartOptions {
  config: StatusConfig;
  /** The server part's client: the status part adds its subscriptions and removes them in stop(). */
  client: MqttClient;
  topics: Topics;
  logger: Logger;
  publishTimeoutMs: number;
  clock?: Clock;
  /** The embedded broker of this process: the feed of every event comes from it without a socket. */
  local?: LocalBroker;
}

/** What the live stream forwards to the page. */
export interface StatusUpdates {
  event: [EventSummary];
  step: [{ eventId: string; step: TraceStep; event: EventSummary | null }];
  device: [DeviceView | { id: string; removed: true }];
  broker: [{ connected: boolean }];
  slack: [SlackHealth];
  'all-mute': [Pick<DevicesReply, 'allMutedUntil' | 'allMutedBy'>];
}

export class StatusPart extends EventEmitter<StatusUpdates> implements Part {
  readonly name = 'status';
  #opts: StatusPartOptions;
  #log: Logger;
  #topics: Topics;
  #clock: Clock;
  #store: EventStore;
  #board: DeviceBoard;
  #perType: MinuteCounter;
  #perBell: MinuteCounter;
  #filters: string[];
  #slack: SlackHealth | undefined;
  #retained: RetainedPublisher;
  #rollCall: RollCall;
  #unsubscribeLocal: (() => Promise<void>) | undefined;
  #onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    // The client is shared with the event API: nothing the page keeps may break it.
    try {
      this.#handle(topic, payload, packet);
    } catch (err) {
      this.#log.error({ err, topic }, 'status page failed to take in a message');
    }
  };
  #onConnect = () => this.emit('broker', { connected: true });
  #onClose = () => this.emit('broker', { connected: false });

  constructor(opts: StatusPartOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.logger.child({ part: 'status' });
    this.#topics = opts.topics;
    this.#clock = opts.clock ?? systemClock;
    const now = () => this.#clock.now();
    this.#store = new EventStore({ capacity: opts.config.recentEvents });
    this.#board = new DeviceBoard({ now, staleAfterMs: opts.config.staleAfterSeconds * 1000 });
    this.#perType = new MinuteCounter({ now });
    this.#perBell = new MinuteCounter({ now, maxKeys: 100 });
    this.#retained = new RetainedPublisher(opts.client, opts.publishTimeoutMs);
    const t = this.#topics;
    this.#filters = [t.events(), t.anyDevice('status'), t.anyDevice('state'), t.anyDevice('mute'), t.anyDevice('rang'), t.anyDevice('ding'), t.slackDelivered(), t.slackHealth()];
    this.#rollCall = new RollCall(opts.client, t, [t.anyDevice('status'), t.anyDevice('state'), t.anyDevice('mute')]);
  }

  get brokerConnected(): boolean {
    return this.#opts.client.connected;
  }

  async start(): Promise<void> {
    const client = this.#opts.client;
    // Attached before any await, so retained messages answering an earlier subscription on
    // this shared client (mqtt.js sends a filter only once per client) still reach us.
    client.on('message', this.#onMessage);
    client.on('connect', this.#onConnect);
    client.on('close', this.#onClose);
    // Not awaited: while the broker is away the client queues the subscription and sends it on connect.
    // The feed of every event is QoS 0: the page is a best-effort view kept in memory, and a
    // PUBACK per event would double the server's MQTT writes on the ingest hot path.
    const qosOf = (f: string): 0 | 1 => (f === this.#topics.events() ? 0 : 1);
    const local = this.#opts.local;
    const events = this.#topics.events();
    if (local) this.#unsubscribeLocal = await local.subscribe(events, (topic, payload) => this.#onMessage(topic, payload, LOCAL_PACKET));
    const filters = local ? this.#filters.filter((f) => f !== events) : this.#filters;
    subscribeChecked(client, Object.fromEntries(filters.map((f) => [f, { qos: qosOf(f) }])), {
      log: this.#log,
      refusedMessage: 'broker refused status subscriptions (ACL?); the page will miss them',
      failedMessage: 'status subscriptions failed',
      failedLevel: 'warn',
    });
    this.#rollCall.start();
  }

  async stop(): Promise<void> {
    await this.#unsubscribeLocal?.().catch(() => undefined);
    this.#unsubscribeLocal = undefined;
    const client = this.#opts.client;
    client.off('message', this.#onMessage);
    client.off('connect', this.#onConnect);
    client.off('close', this.#onClose);
    this.#rollCall.stop();
    // No unsubscribe: the client is the server part's, other listeners on it (metrics) share
    // these filters, and it ends right after this.
    this.removeAllListeners();
  }

  devices(): DevicesReply {
    return { brokerConnected: this.brokerConnected, slack: this.#slack ?? null, ...this.#board.list() };
  }

  /** What the Slack sink last said about its bot token (retained on slack/health), if anything. */
  get slack(): SlackHealth | undefined {
    return this.#slack;
  }

  knowsDevice(id: string): boolean {
    return this.#board.has(id);
  }

  recent(filter: RecentFilter): EventSummary[] {
    return this.#store.recent(filter);
  }

  trace(eventId: string): Trace | undefined {
    return this.#store.trace(eventId);
  }

  stats(): StatsReply {
    return { minuteMs: MINUTE_MS, minutes: this.#perType.series(), rings: this.#perBell.totals() };
  }

  /**
   * Sends a bell.test ding to one bell once the broker holds it. A muted bell gets it too:
   * its rang report ("muted") then shows in the trace, and the answer says it will not ring.
   */
  async ring(deviceId: string, by: string): Promise<RingReply> {
    const ding = dingCommand(this.#topics, [deviceId], { source: `status/${by}`, subject: 'Ring button', now: () => new Date(this.#clock.now()) });
    const envelope = ding.event;
    const publisher = new EventPublisher(this.#opts.client, this.#topics, this.#opts.publishTimeoutMs);
    await publisher.publishRaw(ding.topics[0]!, ding.payload);
    const view = this.#board.view(deviceId);
    this.#log.info({ eventId: envelope.id, deviceId, by, muted: view?.muted }, 'ring requested from the status page');
    return {
      eventId: envelope.id,
      deviceId,
      muted: view?.muted ?? false,
      mutedUntil: view?.mutedUntil ?? null,
      mutedBy: view?.mutedBy ?? null,
      quiet: view?.quiet ?? false,
    };
  }

  /** Mutes one bell, or every bell (id "all"), for `minutes`; resolves once the broker holds the retained mute and passed it on. */
  async mute(deviceId: string, minutes: number, by: string): Promise<MuteReply> {
    const until = this.#clock.now() + minutes * 60_000;
    const source = `status/${by}`;
    await this.#publishMute(deviceId, new Date(until), source);
    this.#log.info({ deviceId, minutes, by }, 'bell muted from the status page');
    const all = this.#board.allMute();
    // A mute of all bells that lasts longer keeps this one silent past its own.
    if (deviceId !== BROADCAST_DEVICE && all.allMutedUntil !== null && Date.parse(all.allMutedUntil) > until) {
      return { deviceId, mutedUntil: all.allMutedUntil, mutedBy: all.allMutedBy, updated: [deviceId] };
    }
    return { deviceId, mutedUntil: new Date(until).toISOString(), mutedBy: source, updated: [deviceId] };
  }

  /** Clears the mute of one bell, or of every bell (id "all", which also clears each bell's own, as /ding unmute does). */
  async unmute(deviceId: string, by: string): Promise<MuteReply> {
    const source = `status/${by}`;
    const targets = unmuteTargets(deviceId === BROADCAST_DEVICE ? undefined : deviceId, this.#board.mutedBells());
    await Promise.all(targets.map((id) => this.#publishMute(id, null, source)));
    this.#log.info({ deviceId, updated: targets, by }, 'bell unmuted from the status page');
    // Clearing one bell's mute leaves the mute of all bells in force.
    const all = deviceId === BROADCAST_DEVICE ? undefined : this.#board.allMute();
    return { deviceId, mutedUntil: all?.allMutedUntil ?? null, mutedBy: all?.allMutedBy ?? null, updated: targets };
  }

  /**
   * Resolves once our own copy came back from the broker and #handle took it in: the answer,
   * and a Ring pressed right after, already see the new mute.
   */
  #publishMute(deviceId: string, until: Date | null, by: string): Promise<void> {
    const mute = muteCommand(this.#topics, deviceId, until, by);
    return this.#retained.publish(mute.topic, mute.payload);
  }

  #muteChanged(deviceId: string, mute: MuteState): void {
    this.#devicesChanged(this.#board.mute(deviceId, mute));
    if (deviceId === BROADCAST_DEVICE) this.emit('all-mute', this.#board.allMute());
  }

  #handle(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const now = new Date(this.#clock.now());
    const route = this.#topics.parse(topic);
    if (!route) return;
    if (route.kind === 'slack-delivered') {
      const report = parseSeenDelivery(payload);
      if (!report) return void this.#log.debug({ topic }, 'ignored a malformed delivery report');
      for (const eventId of reportedEventIds(report)) this.#step(eventId, deliveryStep(report, now));
      return;
    }
    if (route.kind === 'slack-health') {
      const health = parseSlackHealth(payload);
      if (!health) return void this.#log.debug({ topic }, 'ignored a malformed Slack health report');
      this.#slack = health;
      return void this.emit('slack', health);
    }
    if (route.kind === 'event') return this.#event(topic, payload, now);
    const { deviceId, channel } = route;
    this.#rollCall.heard(deviceId, channel);
    switch (channel) {
      case 'ding':
        return this.#event(topic, payload, now, deviceId);
      case 'rang': {
        const report = parseSeenRang(payload);
        if (!report) return void this.#log.debug({ topic }, 'ignored a malformed rang report');
        if (report.strikes > 0) this.#perBell.add(report.deviceId);
        this.#devicesChanged(this.#board.rang(deviceId, report));
        return this.#step(report.eventId, rangStep(report, now));
      }
      case 'status':
        return this.#devicesChanged(this.#board.status(deviceId, payload.toString(), packet.retain));
      case 'state': {
        const state = parseDeviceState(payload);
        if (!state) return void this.#log.debug({ topic }, 'ignored a malformed heartbeat');
        return this.#devicesChanged(this.#board.heartbeat(deviceId, state, packet.retain));
      }
      case 'mute': {
        const mute = parseMute(payload);
        if (!mute) return void this.#log.debug({ topic }, 'ignored a malformed mute state');
        this.#muteChanged(deviceId, mute);
        // After the board took it in: the answer to a Mute button that waits for this copy reads the board.
        return this.#retained.seen(topic, payload);
      }
    }
  }

  #event(topic: string, payload: Buffer, now: Date, target?: string): void {
    let envelope;
    try {
      envelope = parseEnvelope(payload);
    } catch (err) {
      if (err instanceof EnvelopeError) return void this.#log.debug({ topic, err: err.message }, 'ignored a malformed event');
      throw err;
    }
    const seen = target === undefined ? { topic, at: now } : { topic, at: now, target };
    const summary = this.#store.addEvent(envelope, seen);
    if (!summary) return;
    this.#perType.add(summary.type);
    this.emit('event', summary);
  }

  #step(eventId: string, step: TraceStep): void {
    const added = this.#store.addStep(eventId, step);
    if (added) this.emit('step', { eventId, ...added });
  }

  #devicesChanged(ids: string[]): void {
    for (const id of ids) this.emit('device', this.#board.view(id) ?? { id, removed: true });
  }
}
