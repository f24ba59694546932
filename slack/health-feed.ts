// The sink's word on Slack (does it take the token, is it reachable, how much waits),
// retained on <prefix>/slack/health so a status page started later, in another process
// or on another machine, knows it without asking the sink.
import type { Clock } from '../shared/clock.js';
import type { SlackHealth } from '../shared/messages.js';
import type { MqttClient } from '../shared/mqtt.js';

export class HealthFeed {
  #topic: string;
  #clock: Clock;
  #current: () => SlackHealth;
  #client: MqttClient | undefined;
  #timer: ReturnType<Clock['setTimeout']> | undefined;

  /** `current`: the health as it is now (read at each publish, so the waiting count is fresh). */
  constructor(topic: string, clock: Clock, current: () => SlackHealth) {
    this.#topic = topic;
    this.#clock = clock;
    this.#current = current;
  }

  attach(client: MqttClient | undefined): void {
    this.#client = client;
  }

  publish(): void {
    const client = this.#client;
    if (!client?.connected) return;
    client.publish(this.#topic, JSON.stringify(this.#current()), { qos: 1, retain: true });
  }

  /** Once a second at most: a burst of events while Slack is away is one update of the count. */
  publishSoon(): void {
    if (this.#timer) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.publish();
    }, 1000);
  }

  stop(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#client = undefined;
  }
}
