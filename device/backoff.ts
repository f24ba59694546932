// Reconnect back-off for an mqtt.js client: the wait doubles after each failed
// attempt (with jitter, so a room full of bells does not stampede a broker that
// comes back) up to a ceiling, and starts over after a successful connect.
// mqtt.js re-arms its reconnect timer from options.reconnectPeriod on every
// 'close', so the new wait is set just before its own close handler runs.
import type { MqttClient } from 'mqtt';

export interface BackoffRules {
  baseMs: number;
  maxMs: number;
  /** 0..1, the share of each wait that is random; default 0.2. */
  jitter?: number;
  random?: () => number;
}

export class ReconnectBackoff {
  #client: MqttClient;
  #rules: BackoffRules;
  #failures = 0;
  #onClose = () => {
    this.#client.options.reconnectPeriod = this.nextDelay();
  };
  #onConnect = () => {
    this.#failures = 0;
    this.#client.options.reconnectPeriod = this.#rules.baseMs;
  };

  constructor(client: MqttClient, rules: BackoffRules) {
    this.#client = client;
    this.#rules = rules;
  }

  start(): void {
    this.#client.prependListener('close', this.#onClose);
    this.#client.on('connect', this.#onConnect);
  }

  stop(): void {
    this.#client.off('close', this.#onClose);
    this.#client.off('connect', this.#onConnect);
  }

  /** The wait before the next attempt; advances the failure count. */
  nextDelay(): number {
    const { baseMs, maxMs, jitter = 0.2, random = Math.random } = this.#rules;
    const plain = Math.min(maxMs, baseMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    // Jitter only ever shortens the wait, so the ceiling holds.
    return Math.max(1, Math.round(plain * (1 - jitter * random())));
  }
}
