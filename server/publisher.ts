// Publishes envelopes with QoS 1 and resolves only on the broker's PUBACK, so the
// HTTP answer can promise that the broker holds the event.
import type { MqttClient } from 'mqtt';
import type { Envelope } from '../shared/envelope.js';
import type { Topics } from '../shared/topics.js';

export class BrokerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerUnavailableError';
  }
}

type PublishCallback = (err?: Error) => void;

export class EventPublisher {
  #client: MqttClient;
  #topics: Topics;
  #timeoutMs: number;

  constructor(client: MqttClient, topics: Topics, timeoutMs: number) {
    this.#client = client;
    this.#topics = topics;
    this.#timeoutMs = timeoutMs;
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  publish(envelope: Envelope): Promise<void> {
    return this.publishRaw(this.#topics.event(envelope.type), JSON.stringify(envelope));
  }

  publishRaw(topic: string, payload: string): Promise<void> {
    // Refuse rather than queue: a queued message could still go out after we
    // answered 503, and the sender's retry would then post it twice.
    if (!this.#client.connected) return Promise.reject(new BrokerUnavailableError('not connected to the MQTT broker'));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const callback: PublishCallback = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(new BrokerUnavailableError(`publish failed: ${err.message}`));
        else resolve();
      };
      const timer = setTimeout(() => {
        if (settled) return;
        this.#forget(callback);
        settled = true;
        reject(new BrokerUnavailableError(`broker did not acknowledge within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#client.publish(topic, payload, { qos: 1 }, callback);
    });
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
