// Turns what the bells and the Slack sink report over MQTT into metrics, so the
// server's /metrics covers parts that run in other processes (or on a Pi).
import type { MqttClient } from 'mqtt';
import type { Metrics } from '../shared/metrics.js';
import type { Topics } from '../shared/topics.js';
import { DEVICE_ONLINE, DeliveryReport, parse, parseRang, reportedEventIds } from '../shared/messages.js';
import { RecentIds } from '../shared/recent-ids.js';

/** How long a report is remembered: a QoS 1 redelivery comes within seconds of a reconnect. */
const REPORT_MEMORY_MS = 10 * 60_000;

export class MetricsObserver {
  #client: MqttClient;
  #topics: Topics;
  #metrics: Metrics;
  #online = new Set<string>();
  // QoS 1 is at least once: a report redelivered after a reconnect is counted once.
  #seen = new RecentIds(20_000);
  #filters: string[];
  #onMessage = (topic: string, payload: Buffer) => this.#observe(topic, payload);

  constructor(client: MqttClient, topics: Topics, metrics: Metrics) {
    this.#client = client;
    this.#topics = topics;
    this.#metrics = metrics;
    this.#filters = [topics.anyDevice('status'), topics.anyDevice('rang'), topics.slackDelivered()];
  }

  start(): void {
    this.#client.on('message', this.#onMessage);
    // Kept by the server's persistent session, and resubscribed by mqtt.js on every reconnect.
    this.#client.subscribe(this.#filters, { qos: 1 });
  }

  stop(): void {
    this.#client.off('message', this.#onMessage);
  }

  #first(key: string): boolean {
    const now = Date.now();
    return this.#seen.add(key, now + REPORT_MEMORY_MS, now);
  }

  #observe(topic: string, payload: Buffer): void {
    const route = this.#topics.parse(topic);
    if (route?.kind === 'slack-delivered') {
      // A malformed report is not ours to judge; the status page logs it.
      const report = parse(DeliveryReport, payload);
      if (report && this.#first(`d|${report.eventId}|${report.status}|${report.at}`)) this.#metrics.slackDeliveries.inc({ status: report.status }, reportedEventIds(report).length);
      return;
    }
    if (route?.kind !== 'device') return;
    if (route.channel === 'status') {
      if (payload.toString() === DEVICE_ONLINE) this.#online.add(route.deviceId);
      else this.#online.delete(route.deviceId);
      this.#metrics.bellsOnline.set(this.#online.size);
    } else if (route.channel === 'rang') {
      const rang = parseRang(payload);
      if (!rang || !this.#first(`r|${rang.eventId}|${rang.deviceId}|${rang.at}`)) return;
      if (rang.strikes > 0) this.#metrics.strikes.inc({ device: rang.deviceId }, rang.strikes);
      if (rang.suppressed) this.#metrics.suppressed.inc({ device: rang.deviceId, reason: rang.suppressed });
    }
  }
}
