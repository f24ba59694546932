// Publishes envelopes with QoS 1 (or 2) and resolves only on the broker's acknowledgement,
// so the HTTP answer can promise that the broker holds the event.
import type { MqttClient } from 'mqtt';
import type { Envelope } from '../shared/envelope.js';
import type { Topics } from '../shared/topics.js';
import type { Metrics } from '../shared/metrics.js';

export class BrokerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerUnavailableError';
  }
}

type PublishCallback = (err?: Error) => void;

interface InFlight {
  deadline: number;
  callback: PublishCallback;
  reject: (err: Error) => void;
  settled: boolean;
}

export class EventPublisher {
  #client: MqttClient;
  #topics: Topics;
  #timeoutMs: number;
  // Every publish has the same timeout, so insertion order is deadline order and one
  // sweeping timer replaces a timer per request on the hot path.
  #inFlight = new Set<InFlight>();
  #sweeper: NodeJS.Timeout | undefined;

  #metrics: Metrics | undefined;

  #qos: 1 | 2;

  constructor(client: MqttClient, topics: Topics, timeoutMs: number, metrics?: Metrics, qos: 1 | 2 = 1) {
    this.#qos = qos;
    this.#client = client;
    this.#topics = topics;
    this.#timeoutMs = timeoutMs;
    this.#metrics = metrics;
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  async publish(envelope: Envelope): Promise<void> {
    const started = this.#metrics ? performance.now() : 0;
    await this.publishRaw(this.#topics.event(envelope.type), JSON.stringify(envelope));
    if (this.#metrics) {
      this.#metrics.publishAckSeconds.observe((performance.now() - started) / 1000);
      this.#metrics.eventsAccepted.inc({ source: this.#metrics.sourceLabel(envelope.source) });
    }
  }

  publishRaw(topic: string, payload: string): Promise<void> {
    // Refuse rather than queue: a queued message could still go out after we
    // answered 503, and the sender's retry would then post it twice.
    if (!this.#client.connected) return Promise.reject(new BrokerUnavailableError('not connected to the MQTT broker'));
    return new Promise<void>((resolve, reject) => {
      const entry: InFlight = {
        deadline: Date.now() + this.#timeoutMs,
        settled: false,
        reject,
        callback: (err) => {
          if (entry.settled) return;
          entry.settled = true;
          this.#inFlight.delete(entry);
          if (err) reject(new BrokerUnavailableError(`publish failed: ${err.message}`));
          else resolve();
        },
      };
      this.#inFlight.add(entry);
      if (!this.#sweeper) {
        this.#sweeper = setInterval(() => this.#sweep(), Math.min(100, this.#timeoutMs / 4));
        this.#sweeper.unref();
      }
      this.#batch.push({ topic, payload, callback: entry.callback });
      if (this.#batch.length === 1) setImmediate(this.#flush);
    });
  }

  // Publishes queued during one event-loop turn go out together, so many requests read in the
  // same poll phase cost one socket write instead of one each.
  #batch: Array<{ topic: string; payload: string; callback: PublishCallback }> = [];
  #flush = () => {
    const batch = this.#batch;
    this.#batch = [];
    for (const m of batch) this.#client.publish(m.topic, m.payload, { qos: this.#qos }, m.callback);
  };

  #sweep(): void {
    const now = Date.now();
    for (const entry of this.#inFlight) {
      if (entry.deadline > now) break;
      this.#expire(entry, `broker did not acknowledge within ${this.#timeoutMs} ms`);
    }
    if (this.#inFlight.size === 0) this.#stopSweeper();
  }

  #expire(entry: InFlight, why: string): void {
    entry.settled = true;
    this.#inFlight.delete(entry);
    this.#forget(entry.callback);
    entry.reject(new BrokerUnavailableError(why));
  }

  #stopSweeper(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Drops a timed-out message from the client's store so a reconnect does not send it late. */
  #forget(callback: PublishCallback): void {
    const outgoing = (this.#client as unknown as { outgoing: Record<string, { cb: unknown }> }).outgoing;
    for (const [id, entry] of Object.entries(outgoing)) {
      if (entry.cb === callback) {
        this.#client.removeOutgoingMessage(Number(id));
        return;
      }
    }
  }
}
