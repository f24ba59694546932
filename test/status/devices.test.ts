import { describe, expect, it } from 'vitest';
import { DeviceBoard } from '../../server/status/devices.js';
import type { DeviceState } from '../../shared/messages.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');

function board(opts: { maxDevices?: number } = {}) {
  let now = T0;
  const b = new DeviceBoard({ now: () => now, staleAfterMs: 180_000, ...opts });
  return { b, advance: (ms: number) => (now += ms), now: () => now };
}

function heartbeat(at: number, extra: Partial<DeviceState> = {}): DeviceState {
  return { deviceId: 'office-bell', version: '0.3.0', uptimeSeconds: 600, muted: false, quiet: false, at: new Date(at).toISOString(), ...extra };
}

describe('the bell board', () => {
  it('shows a bell online since the moment it was seen to come online', () => {
    const { b, advance } = board();
    b.status('office-bell', 'offline', true);
    advance(5000);
    b.status('office-bell', 'online', false);
    expect(b.view('office-bell')).toMatchObject({ state: 'online', since: new Date(T0 + 5000).toISOString() });
  });

  it('does not invent a time for a retained status, but takes it from the heartbeat uptime', () => {
    const { b } = board();
    b.status('office-bell', 'online', true);
    expect(b.view('office-bell')!.since).toBeNull();
    b.heartbeat('office-bell', heartbeat(T0), true);
    expect(b.view('office-bell')).toMatchObject({ since: new Date(T0 - 600_000).toISOString(), version: '0.3.0', uptimeSeconds: 600 });
  });

  it('calls an online bell stale when its heartbeat stops, and online again when it resumes', () => {
    const { b, advance, now } = board();
    b.status('office-bell', 'online', false);
    expect(b.view('office-bell')!.state).toBe('online');
    b.heartbeat('office-bell', heartbeat(now()), false);
    advance(181_000);
    expect(b.view('office-bell')!.state).toBe('stale');
    b.heartbeat('office-bell', heartbeat(now()), false);
    expect(b.view('office-bell')!.state).toBe('online');
  });

  it('judges a retained heartbeat by the time it was sent, not when it was delivered', () => {
    const { b } = board();
    b.status('office-bell', 'online', true);
    b.heartbeat('office-bell', heartbeat(T0 - 3600_000), true);
    expect(b.view('office-bell')!.state).toBe('stale');
  });

  it('shows a mute until it runs out, and the broadcast mute on every bell', () => {
    const { b, advance } = board();
    b.status('office-bell', 'online', false);
    b.status('kitchen', 'online', false);
    const until = new Date(T0 + 60_000).toISOString();
    expect(b.mute('office-bell', { until })).toEqual(['office-bell']);
    expect(b.view('office-bell')).toMatchObject({ muted: true, mutedUntil: until });
    expect(b.view('kitchen')).toMatchObject({ muted: false, mutedUntil: null });
    const later = new Date(T0 + 120_000).toISOString();
    expect(b.mute('all', { until: later })).toEqual(['office-bell', 'kitchen']);
    expect(b.view('kitchen')).toMatchObject({ muted: true, mutedUntil: later });
    expect(b.list().allMutedUntil).toBe(later);
    advance(121_000);
    expect(b.view('office-bell')).toMatchObject({ muted: false, mutedUntil: null });
  });

  it('says who set the mute in force, lists the bells muted on their own, and the mute of all bells apart', () => {
    const { b, advance } = board();
    b.status('office-bell', 'online', false);
    b.status('kitchen', 'online', false);
    b.mute('office-bell', { until: new Date(T0 + 60_000).toISOString(), by: '@ada' });
    b.mute('all', { until: new Date(T0 + 30_000).toISOString(), by: 'status/ops' });
    expect(b.view('office-bell')).toMatchObject({ mutedBy: '@ada' });
    expect(b.view('kitchen')).toMatchObject({ mutedBy: 'status/ops' });
    expect(b.mutedBells()).toEqual(['office-bell']);
    expect(b.allMute()).toEqual({ allMutedUntil: new Date(T0 + 30_000).toISOString(), allMutedBy: 'status/ops' });
    advance(31_000);
    expect(b.allMute()).toEqual({ allMutedUntil: null, allMutedBy: null });
    expect(b.view('kitchen')).toMatchObject({ muted: false, mutedBy: null });
    b.mute('office-bell', { until: null, by: 'status/ops' });
    expect(b.mutedBells()).toEqual([]);
    expect(b.view('office-bell')).toMatchObject({ muted: false, mutedUntil: null, mutedBy: null });
  });

  it('takes muted and quiet hours from the heartbeat too', () => {
    const { b } = board();
    b.heartbeat('office-bell', heartbeat(T0, { muted: true, quiet: true }), false);
    expect(b.view('office-bell')).toMatchObject({ state: 'unknown', muted: true, quiet: true });
  });

  it('keeps the latest ring from rang reports and heartbeats', () => {
    const { b } = board();
    b.rang('office-bell', { eventId: 'e1', at: new Date(T0 + 1000).toISOString(), strikes: 1 });
    b.heartbeat('office-bell', heartbeat(T0, { lastRing: { eventId: 'e0', at: new Date(T0).toISOString() } }), false);
    expect(b.view('office-bell')!.lastRing).toEqual({ eventId: 'e1', at: new Date(T0 + 1000).toISOString() });
    expect(b.rang('office-bell', { eventId: 'e2', at: new Date(T0 + 2000).toISOString(), strikes: 0 })).toEqual([]);
    expect(b.view('office-bell')!.lastRing!.eventId).toBe('e1');
  });

  it('forgets a bell whose retained status was cleared', () => {
    const { b } = board();
    b.status('office-bell', 'online', true);
    expect(b.status('office-bell', '', false)).toEqual(['office-bell']);
    expect(b.view('office-bell')).toBeUndefined();
  });

  it('ignores status payloads it does not understand and the broadcast id', () => {
    const { b } = board();
    expect(b.status('office-bell', 'sleeping', false)).toEqual([]);
    expect(b.status('all', 'online', false)).toEqual([]);
    expect(b.list().devices).toEqual([]);
  });

  it('tracks at most maxDevices bells', () => {
    const { b } = board({ maxDevices: 3 });
    for (let i = 0; i < 10; i++) b.status(`bell-${i}`, 'online', false);
    expect(b.list().devices.map((d) => d.id)).toEqual(['bell-0', 'bell-1', 'bell-2']);
  });
});
