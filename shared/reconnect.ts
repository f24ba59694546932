// Reconnect back-off for an mqtt.js client, by the one formula in backoff.ts: the wait
// doubles after each failed attempt up to a ceiling, and starts over after a connect.
// mqtt.js re-arms its reconnect timer from options.reconnectPeriod on every
// 'close', so the new wait is set just before its own close handler runs.
import type { MqttClient } from 'mqtt';
import { backoffDelay, type BackoffRules } from './backoff.js';

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
    this.#failures++;
    return backoffDelay(this.#failures, this.#rules);
  }
}
