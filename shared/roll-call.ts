// Which bells are there, on any broker. A retained status, state or mute reaches a new
// subscriber of devices/+/... on aedes and Mosquitto, but RabbitMQ (3.x) keeps retained
// messages for exact topics only, and per node. So on every connection a watcher (the
// status page, the Slack app) also asks on devices/all/rollcall once its device filters
// are in place; each bell answers live with its status and state. The first time the
// watcher hears of a bell on a connection it subscribes to that bell's status and mute
// topics exactly, which every broker answers with the retained copies: so a status that went
// out while the watcher was subscribing (a bell starting with it) is not missed either, as
// long as the watcher hears the bell's next heartbeat. Where the wildcard had delivered
// them already, the copies change nothing.
import type { MqttClient } from 'mqtt';
import { BROADCAST_DEVICE, type DeviceChannel, type Topics } from './topics.js';

// Bells asked about per connection: an open broker lets anyone say it is a bell.
const MAX_BELLS = 1000;

export class RollCall {
  #client: MqttClient;
  #topics: Topics;
  #filters: string[];
  #asked = new Set<string>();

  /** `deviceFilters`: the watcher's own device wildcards, which the answers come on. */
  constructor(client: MqttClient, topics: Topics, deviceFilters: readonly string[]) {
    this.#client = client;
    this.#topics = topics;
    this.#filters = [...deviceFilters, topics.device(BROADCAST_DEVICE, 'mute')];
  }

  start(): void {
    this.#client.on('connect', this.#onConnect);
    if (this.#client.connected) this.#onConnect();
  }

  stop(): void {
    this.#client.off('connect', this.#onConnect);
  }

  // After the SUBACK, so no answer comes before the filters it comes on.
  #onConnect = (): void => {
    this.#asked.clear();
    this.#client.subscribe(Object.fromEntries(this.#filters.map((f) => [f, { qos: 1 as const }])), (err) => {
      // QoS 0 and never retained: a bell away now says itself when it comes back anyway.
      // A callback even for QoS 0: without one, a client ending meanwhile emits an 'error'.
      if (!err) this.#client.publish(this.#topics.device(BROADCAST_DEVICE, 'rollcall'), '', { qos: 0 }, () => undefined);
    });
  };

  /** For every device message the watcher gets: a bell first heard of by its status or state gets both asked for exactly. */
  heard(deviceId: string, channel: DeviceChannel): void {
    if (channel !== 'status' && channel !== 'state') return;
    if (deviceId === BROADCAST_DEVICE || this.#asked.has(deviceId) || this.#asked.size >= MAX_BELLS) return;
    this.#asked.add(deviceId);
    const exact = [this.#topics.device(deviceId, 'status'), this.#topics.device(deviceId, 'mute')];
    this.#client.subscribe(Object.fromEntries(exact.map((f) => [f, { qos: 1 as const }])), () => undefined);
  }
}
