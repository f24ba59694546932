// Publishes envelopes with QoS 1 (or 2) and resolves only on the broker's acknowledgement,
// so the HTTP answer can promise that the broker holds the event. A failure says which of
// two things happened: nothing was sent (BrokerUnavailableError, 503), or it was sent and
// not confirmed (PublishUnconfirmedError, 504: it may have been published).
import type { MqttClient } from 'mqtt';
import type { Envelope } from '../shared/envelope.js';
import type { Topics } from '../shared/topics.js';
import type { Metrics } from '../shared/metrics.js';
import type { LocalBroker } from '../shared/local-broker.js';

/**
 * Nothing was published: the server had no broker connection, so it sent nothing (or the
 * broker refused the publish). Answered 503 with Retry-After; a retry is always safe.
 */
export class BrokerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerUnavailableError';
  }
}

/**
 * The publish went out, but its acknowledgement (PUBACK, or PUBCOMP with QoS 2) did not
 * come in time, or the connection dropped before it came: the broker may hold the event.
 * Answered 504 publish_unconfirmed; the sender must retry with the same event id, which
 * every subscriber drops once it has handled it.
 */
export class PublishUnconfirmedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublishUnconfirmedError';
  }
}

/** A refusal by the broker itself (an MQTT 5 PUBACK/PUBREC reason code of 0x80 or more). */
function refusedByBroker(err: Error): boolean {
  const code = (err as Error & { code?: unknown }).code;
  return typeof code === 'number' && code >= 0x80;
}

/** Handed to a publish's callback when it was never given to the MQTT client. */
const NOT_SENT = new Error('the connection to the MQTT broker was lost before the publish was sent');

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
  #local: LocalBroker | undefined;

  /** `local`: the embedded broker of this process, published to directly instead of through `client`. */
  constructor(client: MqttClient, topics: Topics, timeoutMs: number, metrics?: Metrics, qos: 1 | 2 = 1, local?: LocalBroker) {
    this.#qos = qos;
    this.#local = local;
    this.#client = client;
    this.#topics = topics;
    this.#timeoutMs = timeoutMs;
    this.#metrics = metrics;
  }

  get connected(): boolean {
    return this.#local !== undefined || this.#client.connected;
  }

  async publish(envelope: Envelope): Promise<void> {
    const started = this.#metrics ? performance.now() : 0;
    await this.publishRaw(this.#topics.event(envelope.type), JSON.stringify(envelope));
    if (this.#metrics) {
      this.#metrics.publishAckSeconds.observe((performance.now() - started) / 1000);
      this.#metrics.eventsAccepted.inc({ source: this.#metrics.sourceLabel(envelope.source) });
    }
  }

  /** Publishes a batch; settles only when every publish has, so a 503/504 is never sent while some are in flight. */
  async publishMany(envelopes: readonly Envelope[]): Promise<void> {
    if (envelopes.length === 1) return this.publish(envelopes[0]!);
    const results = await Promise.allSettled(envelopes.map((e) => this.publish(e)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // If any may have been published unconfirmed, the answer says so (504).
    if (failed.length > 0) throw (failed.find((r) => r.reason instanceof PublishUnconfirmedError) ?? failed[0]!).reason;
  }

  publishRaw(topic: string, payload: string): Promise<void> {
    if (this.#local) return this.#publishLocal(topic, payload);
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
          if (!err) resolve();
          else if (err === NOT_SENT) reject(new BrokerUnavailableError(err.message));
          else if (refusedByBroker(err)) reject(new BrokerUnavailableError(`the broker refused the publish: ${err.message}`));
          // 'Connection closed' and the like: it may have reached the broker first.
          else reject(new PublishUnconfirmedError(`publish not confirmed: ${err.message}`));
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
    // The connection can drop between publishRaw() and this turn: refuse rather than let
    // mqtt.js queue what would go out late (and what the answer could not speak for).
    // (A client that is disconnecting would refuse synchronously, having sent nothing.)
    const connected = this.#client.connected && !this.#client.disconnecting;
    for (const m of batch) {
      if (connected) this.#client.publish(m.topic, m.payload, { qos: this.#qos }, m.callback);
      else m.callback(NOT_SENT);
    }
  };

  async #publishLocal(topic: string, payload: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublishUnconfirmedError(`the broker did not take the publish within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      await Promise.race([this.#local!.publish(topic, Buffer.from(payload), this.#qos), late]);
    } catch (err) {
      if (err instanceof PublishUnconfirmedError) throw err;
      // Refused before it was logged (the broker stopping, its store failing): nothing was published.
      throw new BrokerUnavailableError(`the embedded broker refused the publish: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const entry of this.#inFlight) {
      if (entry.deadline > now) break;
      this.#expire(entry, `the broker did not acknowledge the publish within ${this.#timeoutMs} ms`);
    }
    if (this.#inFlight.size === 0) this.#stopSweeper();
  }

  #expire(entry: InFlight, why: string): void {
    entry.settled = true;
    this.#inFlight.delete(entry);
    this.#forget(entry.callback);
    entry.reject(new PublishUnconfirmedError(why));
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
