import { describe, expect, it } from 'vitest';
import { QuietHours } from '../../device/quiet-hours.js';
import { parseConfig } from '../../shared/config/load.js';

function quiet(raw: Record<string, unknown>): QuietHours {
  return new QuietHours(parseConfig({ device: { quietHours: raw } }).device.quietHours);
}

const at = (iso: string) => Date.parse(iso);

describe('quiet hours', () => {
  it('are never on without windows', () => {
    expect(quiet({}).isQuiet(at('2026-11-25T03:00:00Z'))).toBe(false);
  });

  it('run past midnight into the next morning', () => {
    const q = quiet({ timeZone: 'UTC', windows: [{ start: '22:00', end: '07:00' }] });
    expect(q.isQuiet(at('2026-11-25T21:59:00Z'))).toBe(false);
    expect(q.isQuiet(at('2026-11-25T22:00:00Z'))).toBe(true);
    expect(q.isQuiet(at('2026-11-26T03:00:00Z'))).toBe(true);
    expect(q.isQuiet(at('2026-11-26T06:59:00Z'))).toBe(true);
    expect(q.isQuiet(at('2026-11-26T07:00:00Z'))).toBe(false);
  });

  it('are read in the configured time zone, summer time included', () => {
    const q = quiet({ timeZone: 'Europe/Berlin', windows: [{ start: '12:00', end: '13:00' }] });
    // Noon in Berlin is 11:00 UTC in winter (CET) and 10:00 UTC in summer (CEST).
    expect(q.isQuiet(at('2026-01-15T11:30:00Z'))).toBe(true);
    expect(q.isQuiet(at('2026-01-15T12:30:00Z'))).toBe(false);
    expect(q.isQuiet(at('2026-07-15T10:30:00Z'))).toBe(true);
    expect(q.isQuiet(at('2026-07-15T11:30:00Z'))).toBe(false);
  });

  it('keep to their days, an overnight window belonging to the day it starts', () => {
    // 2026-11-27 is a Friday.
    const q = quiet({ timeZone: 'UTC', windows: [{ start: '20:00', end: '08:00', days: ['fri'] }] });
    expect(q.isQuiet(at('2026-11-26T21:00:00Z'))).toBe(false); // Thursday night
    expect(q.isQuiet(at('2026-11-27T21:00:00Z'))).toBe(true); // Friday night
    expect(q.isQuiet(at('2026-11-28T07:00:00Z'))).toBe(true); // ...until Saturday 08:00
    expect(q.isQuiet(at('2026-11-28T21:00:00Z'))).toBe(false); // Saturday night
  });

  it('cover whole days when start equals end', () => {
    const q = quiet({ timeZone: 'UTC', windows: [{ start: '00:00', end: '00:00', days: ['sat', 'sun'] }] });
    expect(q.isQuiet(at('2026-11-28T12:00:00Z'))).toBe(true);
    expect(q.isQuiet(at('2026-11-29T23:59:00Z'))).toBe(true);
    expect(q.isQuiet(at('2026-11-30T00:00:00Z'))).toBe(false);
  });

  it('let the configured event types through', () => {
    const q = quiet({ bypass: ['bell.test'] });
    expect(q.bypasses('bell.test')).toBe(true);
    expect(q.bypasses('user.signup')).toBe(false);
  });

  it('refuse an unknown time zone at once, naming the key', () => {
    expect(() => quiet({ timeZone: 'Mars/Olympus_Mons' })).toThrow(/^device\.quietHours\.timeZone: unknown time zone "Mars\/Olympus_Mons"/);
  });

  it('refuse times that are not HH:MM in the config', () => {
    expect(() => parseConfig({ device: { quietHours: { windows: [{ start: '7pm', end: '08:00' }] } } })).toThrow(/^device\.quietHours\.windows\.0\.start: /);
  });
});
