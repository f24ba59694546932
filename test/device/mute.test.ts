import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MuteTracker } from '../../device/mute.js';
import { silentLogger, tempDir } from '../helpers/world.js';

const dirs: Array<() => void> = [];
afterEach(() => dirs.splice(0).forEach((r) => r()));

function file(): string {
  const dir = tempDir();
  dirs.push(dir.remove);
  return join(dir.path, 'sub', 'mute.json');
}

const NOW = Date.parse('2026-11-25T10:00:00Z');
const inMinutes = (m: number) => new Date(NOW + m * 60_000).toISOString();

describe('the mute state', () => {
  it('mutes until "until", then not', () => {
    const mute = new MuteTracker(undefined, silentLogger());
    expect(mute.set('device', { until: inMinutes(30) })).toBe(true);
    expect(mute.isMuted(NOW)).toBe(true);
    expect(mute.isMuted(NOW + 30 * 60_000)).toBe(false);
  });

  it('mutes while either this bell or all bells are muted, until the later one ends', () => {
    const mute = new MuteTracker(undefined, silentLogger());
    mute.set('all', { until: inMinutes(10) });
    mute.set('device', { until: inMinutes(60) });
    expect(mute.mutedUntil(NOW)).toBe(NOW + 60 * 60_000);
    mute.set('device', { until: null });
    expect(mute.mutedUntil(NOW)).toBe(NOW + 10 * 60_000);
    mute.set('all', { until: null });
    expect(mute.isMuted(NOW)).toBe(false);
  });

  it('tells whether a message changed anything', () => {
    const mute = new MuteTracker(undefined, silentLogger());
    expect(mute.set('all', { until: null })).toBe(false);
    expect(mute.set('all', { until: inMinutes(5) })).toBe(true);
    expect(mute.set('all', { until: inMinutes(5) })).toBe(false);
  });

  it('ignores an "until" that is not a date', () => {
    const mute = new MuteTracker(undefined, silentLogger());
    expect(mute.set('all', { until: 'tomorrow-ish' })).toBe(false);
    expect(mute.isMuted(NOW)).toBe(false);
  });

  it('is remembered across restarts, so queued events after a reboot stay quiet', () => {
    const path = file();
    new MuteTracker(path, silentLogger()).set('all', { until: inMinutes(30), by: 'U123' });
    const next = new MuteTracker(path, silentLogger());
    expect(next.isMuted(NOW)).toBe(false);
    next.load();
    expect(next.isMuted(NOW)).toBe(true);
  });

  it('starts unmuted from a damaged file', () => {
    const path = file();
    new MuteTracker(path, silentLogger()).set('all', { until: inMinutes(30) });
    writeFileSync(path, '{nope');
    const mute = new MuteTracker(path, silentLogger());
    mute.load();
    expect(mute.isMuted(NOW)).toBe(false);
  });
});
