// Reports (a bell's `rang`, the Slack part's `delivered`) are part of the event's record, so
// they must survive what the event survives. QoS 1 with mqtt.js' store is not enough: while
// the client resends what it stored during an outage (one packet at a time, on the first
// connection after a restart), it holds new publishes in a side queue, and if that
// connection drops too it fails them all with "Connection closed" and forgets them. The
// fault runs lost a third of the reports that way. Here a report whose publish failed is
// kept and published again on the next connection; subscribers drop a copy they have seen.
import type { MqttClient } from 'mqtt';

export interface ReportOutboxOptions {
  /** Reports kept while the broker is away; beyond it the oldest go (a bounded memory on a Pi). */
  max?: number;
  /** Called once per report given up for room, with how many so far. */
  onDrop?: (dropped: number) => void;
}

interface Report {
  topic: string;
  payload: string;
  retain: boolean;
}

export class ReportOutbox {
  #client: MqttClient;
  #max: number;
  #onDrop: (dropped: number) => void;
  #kept: Report[] = [];
  #dropped = 0;
  #stopped = false;
  #onConnect = () => this.#resend();

  constructor(client: MqttClient, opts: ReportOutboxOptions = {}) {
    this.#client = client;
    this.#max = opts.max ?? 10_000;
    this.#onDrop = opts.onDrop ?? (() => undefined);
    client.on('connect', this.#onConnect);
  }

  /** Reports waiting for a connection. */
  get waiting(): number {
    return this.#kept.length;
  }

  publish(topic: string, payload: string, retain = false): void {
    this.#send({ topic, payload, retain });
  }

  /** Forgets what waits: the client is ending (a report in flight is best effort then). */
  stop(): void {
    this.#stopped = true;
    this.#kept = [];
    this.#client.off('connect', this.#onConnect);
  }

  #send(report: Report): void {
    this.#client.publish(report.topic, report.payload, { qos: 1, retain: report.retain }, (err) => {
      if (err && !this.#stopped) this.#keep(report);
    });
  }

  #keep(report: Report): void {
    this.#kept.push(report);
    if (this.#kept.length > this.#max) {
      this.#kept.shift();
      this.#onDrop(++this.#dropped);
    }
  }

  #resend(): void {
    const again = this.#kept.splice(0);
    for (const report of again) this.#send(report);
  }
}
