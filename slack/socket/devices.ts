// What the Socket Mode app knows about the bells, from the retained device topics:
// online/offline (and since when), the heartbeat state, mutes, and recent rings.
import { DEVICE_OFFLINE, DEVICE_ONLINE, DeviceState, parse, parseMute, parseRang, type MuteState, type RangReport } from '../../shared/messages.js';
import { BROADCAST_DEVICE, type Topics } from '../../shared/topics.js';

export { isMuted } from '../../shared/messages.js';

export interface BellInfo {
  id: string;
  status?: 'online' | 'offline';
  /** When we saw the status change; undefined when it was already so when we started. */
  since?: number;
  state?: DeviceState;
  mute?: MuteState;
  lastRing?: { at: string; eventId: string; type: string };
}

const MAX_BELLS = 500;

export class DeviceDirectory {
  #topics: Topics;
  #bells = new Map<string, BellInfo>();
  #allMute: MuteState | undefined;
  #rangListeners = new Set<(report: RangReport, receivedAt: number) => void>();

  constructor(topics: Topics) {
    this.#topics = topics;
  }

  /** Topic filters to subscribe to. */
  filters(): string[] {
    return (['status', 'state', 'mute', 'rang'] as const).map((c) => this.#topics.anyDevice(c));
  }

  /** Feeds one MQTT message; `retained` tells a stored status from a fresh change. */
  onMessage(topic: string, payload: Buffer, retained: boolean, now: number): void {
    const route = this.#topics.parse(topic);
    if (route?.kind !== 'device') return;
    const { deviceId, channel } = route;
    if (channel === 'mute') {
      const mute = parseMute(payload);
      if (!mute) return;
      if (deviceId === BROADCAST_DEVICE) this.#allMute = mute;
      else this.#bell(deviceId).mute = mute;
      return;
    }
    if (deviceId === BROADCAST_DEVICE) return;
    if (channel === 'status') {
      const text = payload.toString();
      if (text !== DEVICE_ONLINE && text !== DEVICE_OFFLINE) return;
      const bell = this.#bell(deviceId);
      if (bell.status !== text) {
        bell.status = text;
        if (retained) delete bell.since;
        else bell.since = now;
      }
    } else if (channel === 'state') {
      // A malformed heartbeat says nothing; keep what we had.
      const value = parse(DeviceState, payload);
      if (value) {
        const bell = this.#bell(deviceId);
        bell.state = value;
        if (value.lastRing && (!bell.lastRing || bell.lastRing.at < value.lastRing.at)) {
          bell.lastRing = { ...value.lastRing, type: bell.lastRing?.eventId === value.lastRing.eventId ? bell.lastRing.type : '' };
        }
      }
    } else if (channel === 'rang') {
      const report = parseRang(payload);
      if (!report) return;
      if (report.strikes > 0) this.#bell(deviceId).lastRing = { at: report.at, eventId: report.eventId, type: report.type };
      for (const listener of this.#rangListeners) listener(report, now);
    }
  }

  /** Calls `fn` for every rang report; returns the unsubscribe. */
  onRang(fn: (report: RangReport, receivedAt: number) => void): () => void {
    this.#rangListeners.add(fn);
    return () => this.#rangListeners.delete(fn);
  }

  get(id: string): BellInfo | undefined {
    return this.#bells.get(id);
  }

  /** Bells with a known status, by id. */
  list(): BellInfo[] {
    return [...this.#bells.values()].filter((b) => b.status !== undefined).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The mute that applies to every bell (devices/all/mute), if any is active. */
  get allMute(): MuteState | undefined {
    return this.#allMute;
  }

  #bell(id: string): BellInfo {
    let bell = this.#bells.get(id);
    if (!bell) {
      bell = { id };
      // Bounded like the status page's board: a client spraying device topics cannot grow it
      // without end (past the cap, new ids are kept in a scratch record that is not listed).
      if (this.#bells.size < MAX_BELLS && id.length <= 100) this.#bells.set(id, bell);
    }
    return bell;
  }
}
