// The Pi agent: a persistent MQTT session that turns events and ding commands into
// bell strikes, reports each as `rang`, and keeps its retained online/offline status.
import { EventEmitter } from 'node:events';
import type { IPublishPacket } from 'mqtt';
import type { Config } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { Part } from '../shared/part.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { Topics, BROADCAST_DEVICE } from '../shared/topics.js';
import { parseEnvelope, EnvelopeError, type Envelope } from '../shared/envelope.js';
import { DEVICE_OFFLINE, DEVICE_ONLINE, type RangReport } from '../shared/messages.js';
import { connectMqtt, mqttSettings, type MqttClient } from '../shared/mqtt.js';
import { BellController } from './bell.js';
import { RecentIds } from './dedup.js';
import type { GpioDriver } from './gpio/driver.js';

export interface AgentOptions {
  config: Config;
  driver: GpioDriver;
  logger: Logger;
  clock?: Clock;
}

export interface AgentEvents {
  rang: [RangReport, Envelope];
  subscribed: [];
}

export class AgentPart extends EventEmitter<AgentEvents> implements Part {
  readonly name = 'agent';
  #opts: AgentOptions;
  #log: Logger;
  #topics: Topics;
  #bell: BellController | undefined;
  #mqtt: MqttClient | undefined;
  #seen = new RecentIds(1000);
  #onExit = () => this.#bell?.emergencyLow();

  constructor(opts: AgentOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.logger.child({ part: 'agent', deviceId: opts.config.device.id });
    this.#topics = new Topics(opts.config.mqtt.topicPrefix);
  }

  get deviceId(): string {
    return this.#opts.config.device.id;
  }

  get connected(): boolean {
    return this.#mqtt?.connected ?? false;
  }

  /** Drives the pin low synchronously (for uncaught-error paths). */
  emergencyLow(): void {
    this.#bell?.emergencyLow();
  }

  async start(): Promise<void> {
    const { config, driver } = this.#opts;
    const device = config.device;
    this.#bell = new BellController(driver, device.bell, this.#opts.clock ?? systemClock, this.#log);
    this.#bell.emergencyLow();
    process.on('exit', this.#onExit);

    const status = this.#topics.device(device.id, 'status');
    const client = connectMqtt(mqttSettings(config, device.mqtt), {
      clientId: device.id,
      clean: false,
      will: { topic: status, payload: Buffer.from(DEVICE_OFFLINE), qos: 1, retain: true },
    });
    this.#mqtt = client;
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
    ];
    client.on('connect', (connack) => {
      this.#log.info({ sessionPresent: connack.sessionPresent }, 'connected to MQTT broker');
      client.publish(status, DEVICE_ONLINE, { qos: 1, retain: true });
      client.subscribe(
        Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])),
        (err, granted) => {
          if (err) return this.#log.error({ err: err.message }, 'subscribe failed');
          const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
          if (refused.length > 0) this.#log.error({ refused }, 'broker refused subscriptions (ACL?)');
          this.emit('subscribed');
        },
      );
    });
    client.on('offline', () => this.#log.warn('MQTT broker unreachable; retrying'));
    client.on('error', (err) => this.#log.warn({ err: err.message }, 'MQTT error'));
  }

  async stop(): Promise<void> {
    this.#bell?.stop();
    const client = this.#mqtt;
    this.#mqtt = undefined;
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

  async #handle(packet: IPublishPacket): Promise<void> {
    const route = this.#topics.parse(packet.topic);
    if (!route) return;
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
    const log = this.#log.child({ eventId: envelope.id });
    if (!this.#seen.add(envelope.id)) return void log.debug('duplicate delivery; already handled');
    const strikes = this.#opts.config.device.bell.strikes[envelope.type] ?? 1;
    const outcome = await this.#bell!.ring({ eventId: envelope.id, type: envelope.type, time: envelope.time, strikes });
    const report: RangReport = {
      eventId: envelope.id,
      deviceId: this.deviceId,
      type: envelope.type,
      strikes: outcome.strikes,
      at: new Date().toISOString(),
    };
    if (outcome.suppressed) report.suppressed = outcome.suppressed;
    log.info({ strikes: report.strikes, suppressed: report.suppressed, type: envelope.type }, 'bell handled event');
    this.#mqtt?.publish(this.#topics.device(this.deviceId, 'rang'), JSON.stringify(report), { qos: 1 });
    this.emit('rang', report, envelope);
  }
}
