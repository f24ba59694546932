// What the server knows about each bell, from the retained status, heartbeat and mute
// messages and the rang reports. Bounded: ids beyond maxDevices are ignored, so a
// client spraying topics cannot grow it without end.
import { BROADCAST_DEVICE } from '../../shared/topics.js';
import { DEVICE_OFFLINE, DEVICE_ONLINE, mutedUntil, type DeviceState, type MuteState } from '../../shared/messages.js';
import type { DeviceView, DevicesReply } from './schemas.js';

export interface DeviceBoardOptions {
  now: () => number;
  staleAfterMs: number;
  maxDevices?: number;
}

interface DeviceRecord {
  id: string;
  status?: 'online' | 'offline';
  /** When the status last changed, when we saw it happen (a retained status tells no time). */
  since: number | null;
  state?: DeviceState;
  heartbeatMs?: number;
  mute?: MuteState;
  lastRing?: { eventId: string; at: string };
}

export class DeviceBoard {
  #now: () => number;
  #staleAfterMs: number;
  #maxDevices: number;
  #devices = new Map<string, DeviceRecord>();
  #allMute: MuteState = { until: null };

  constructor(opts: DeviceBoardOptions) {
    this.#now = opts.now;
    this.#staleAfterMs = opts.staleAfterMs;
    this.#maxDevices = opts.maxDevices ?? 500;
  }

  // Each update returns the ids whose view changed (none when it was ignored).

  /** `retained`: the broker's stored copy, delivered when we subscribed. An empty payload retires the bell. */
  status(id: string, payload: string, retained: boolean): string[] {
    if (payload === '') return this.#devices.delete(id) ? [id] : [];
    if (payload !== DEVICE_ONLINE && payload !== DEVICE_OFFLINE) return [];
    const rec = this.#record(id);
    if (!rec) return [];
    if (rec.status !== payload) rec.since = retained ? null : this.#now();
    rec.status = payload;
    return [id];
  }

  heartbeat(id: string, state: DeviceState, retained: boolean): string[] {
    const rec = this.#record(id);
    if (!rec) return [];
    rec.state = state;
    // A retained heartbeat may be hours old: its own time is the best guess of when it was sent.
    const sent = Date.parse(state.at);
    rec.heartbeatMs = retained && !Number.isNaN(sent) ? sent : this.#now();
    this.#noteRing(rec, state.lastRing);
    return [id];
  }

  /** The broadcast mute changes every bell. */
  mute(id: string, mute: MuteState): string[] {
    if (id === BROADCAST_DEVICE) {
      this.#allMute = mute;
      return [...this.#devices.keys()];
    }
    const rec = this.#record(id);
    if (!rec) return [];
    rec.mute = mute;
    return [id];
  }

  rang(id: string, ring: { eventId: string; at: string; strikes: number }): string[] {
    if (ring.strikes === 0) return [];
    const rec = this.#record(id);
    if (!rec) return [];
    this.#noteRing(rec, ring);
    return [id];
  }

  has(id: string): boolean {
    return this.#devices.has(id);
  }

  view(id: string): DeviceView | undefined {
    const rec = this.#devices.get(id);
    if (!rec) return undefined;
    const now = this.#now();
    const own = mutedUntil(rec.mute, now);
    const all = mutedUntil(this.#allMute, now);
    const until = own !== null && all !== null ? Math.max(own, all) : (own ?? all);
    // Whoever set the mute that lasts longest is the one to ask about it.
    const by = until === null ? undefined : until === own ? rec.mute?.by : this.#allMute.by;
    const state = rec.state;
    return {
      id: rec.id,
      state: this.#stateName(rec, now),
      since: iso(rec.since ?? (rec.status === DEVICE_ONLINE && state ? startedAt(state) : null)),
      version: state?.version ?? null,
      uptimeSeconds: state?.uptimeSeconds ?? null,
      heartbeatAt: state?.at ?? null,
      muted: until !== null || (state?.muted ?? false),
      mutedUntil: iso(until),
      mutedBy: by ?? null,
      quiet: state?.quiet ?? false,
      lastRing: rec.lastRing ?? null,
    };
  }

  list(): Omit<DevicesReply, 'brokerConnected' | 'slack'> {
    const ids = [...this.#devices.keys()].sort();
    return { ...this.allMute(), devices: ids.map((id) => this.view(id)!) };
  }

  /** The mute of every bell (devices/all/mute) while it is in force. */
  allMute(): Pick<DevicesReply, 'allMutedUntil' | 'allMutedBy'> {
    const until = mutedUntil(this.#allMute, this.#now());
    return { allMutedUntil: iso(until), allMutedBy: until === null ? null : (this.#allMute.by ?? null) };
  }

  /** Bells under a mute of their own (not only the one of all bells). */
  mutedBells(): string[] {
    const now = this.#now();
    return [...this.#devices.values()].filter((rec) => mutedUntil(rec.mute, now) !== null).map((rec) => rec.id);
  }

  #stateName(rec: DeviceRecord, now: number): DeviceView['state'] {
    if (rec.status === undefined) return 'unknown';
    if (rec.status === DEVICE_OFFLINE) return 'offline';
    if (rec.heartbeatMs !== undefined && now - rec.heartbeatMs > this.#staleAfterMs) return 'stale';
    return 'online';
  }

  #record(id: string): DeviceRecord | undefined {
    if (id === BROADCAST_DEVICE || id.length > 100) return undefined;
    let rec = this.#devices.get(id);
    if (!rec) {
      if (this.#devices.size >= this.#maxDevices) return undefined;
      rec = { id, since: null };
      this.#devices.set(id, rec);
    }
    return rec;
  }

  #noteRing(rec: DeviceRecord, ring: { eventId: string; at: string } | undefined): void {
    if (!ring || Number.isNaN(Date.parse(ring.at))) return;
    if (!rec.lastRing || Date.parse(ring.at) > Date.parse(rec.lastRing.at)) rec.lastRing = { eventId: ring.eventId, at: ring.at };
  }
}

function startedAt(state: DeviceState): number | null {
  const at = Date.parse(state.at);
  return Number.isNaN(at) ? null : at - state.uptimeSeconds * 1000;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
