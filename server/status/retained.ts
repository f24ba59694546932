// A retained QoS 1 publish for the mute buttons, done once the broker has both acknowledged
// it and passed it on. The event publisher sends only unretained messages, and a mute must
// be retained: a bell that reconnects reads its mute from the broker's stored copy.
//
// Why wait for the copy: over MQTT 3.1.1 a broker whose ACL refuses the publish still
// acknowledges it (Mosquitto drops it silently), so the PUBACK alone would let the page say
// "muted" while nothing changed. The status part subscribes to devices/+/mute, so the broker
// sends the server its own message back (handed in through seen()); without it, the answer
// says what to check.
import type { MqttClient } from 'mqtt';
import { HttpError } from '../errors.js';
import { BrokerUnavailableError } from '../publisher.js';

/** One per status part: it hands every mute message it receives to seen(). */
export class RetainedPublisher {
  #client: MqttClient;
  #timeoutMs: number;
  /** topic + payload -> the publishes waiting for that copy to come back. */
  #waiting = new Map<string, Set<() => void>>();

  constructor(client: MqttClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  seen(topic: string, payload: Buffer): void {
    const waiting = this.#waiting.get(key(topic, payload.toString()));
    if (waiting) for (const done of [...waiting]) done();
  }

  publish(topic: string, payload: string): Promise<void> {
    const client = this.#client;
    const timeoutMs = this.#timeoutMs;
    // Refuse rather than let mqtt.js queue it: the answer would promise what may happen much later.
    if (!client.connected || client.disconnecting) return Promise.reject(new BrokerUnavailableError('not connected to the MQTT broker'));
    const k = key(topic, payload);
    return new Promise<void>((resolve, reject) => {
      let acked = false;
      let echoed = false;
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        waiting.delete(onEcho);
        if (waiting.size === 0 && this.#waiting.get(k) === waiting) this.#waiting.delete(k);
        if (err) reject(err);
        else resolve();
      };
      const onEcho = () => {
        echoed = true;
        if (acked) settle();
      };
      const waiting = this.#waiting.get(k) ?? new Set();
      this.#waiting.set(k, waiting);
      waiting.add(onEcho);
      // A mute is a state, not an event: sending it twice does no harm, so the 504 says to press again.
      const unconfirmed = (why: string) => new HttpError('publish_unconfirmed', `${why}; look at the bell's row, or press again (repeating a mute is safe)`);
      const timer = setTimeout(() => {
        if (!acked) return settle(unconfirmed(`the broker did not acknowledge the mute within ${timeoutMs} ms: it may or may not be in force`));
        settle(
          unconfirmed(
            `the broker acknowledged the mute but did not pass it on within ${timeoutMs} ms: its ACL may not let the server's MQTT user write ${topic} ` +
              '(an external broker needs `topic write <prefix>/devices/+/mute` for the server; bellhop mosquitto-config writes it)',
          ),
        );
      }, timeoutMs);
      client.publish(topic, payload, { qos: 1, retain: true }, (err) => {
        if (!err) {
          acked = true;
          if (echoed) settle();
          return;
        }
        const code = (err as Error & { code?: unknown }).code;
        // An MQTT 5 reason code of 0x80 or more is the broker saying no (an ACL, say): nothing changed.
        if (typeof code === 'number' && code >= 0x80) return settle(new BrokerUnavailableError(`the broker refused the mute: ${err.message}`));
        settle(unconfirmed(`the mute was not confirmed (${err.message}): it may or may not be in force`));
      });
    });
  }
}

const key = (topic: string, payload: string) => `${topic}\n${payload}`;
