// Quiet hours: windows of local time, in a chosen time zone, when the bell stays
// silent. A window past midnight (22:00-07:00) ends the next morning and belongs
// to the day it starts on; start equal to end means the whole day.
// The Intl formatter is made only when a window is configured or a zone named: the first
// Intl.DateTimeFormat of a process maps ICU's locale and zone data, about 7 MB of a Pi
// agent's memory that a bell without quiet hours never needs.
import { WEEKDAYS, type QuietHoursConfig } from '../shared/config/sections/device.js';

const WEEKDAY_INDEX: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

interface Window {
  start: number;
  end: number;
  days: ReadonlySet<number> | undefined;
}

export class QuietHours {
  #windows: Window[];
  #bypass: ReadonlySet<string>;
  #format: Intl.DateTimeFormat | undefined;

  /** Throws on an unknown time zone, so a typo fails at start instead of at night. */
  constructor(rules: QuietHoursConfig) {
    if (rules.windows.length > 0 || rules.timeZone !== 'local') this.#format = localFormat(rules.timeZone);
    this.#windows = rules.windows.map((w) => ({
      start: minutes(w.start),
      end: minutes(w.end),
      days: w.days ? new Set(w.days.map((d) => WEEKDAYS.indexOf(d))) : undefined,
    }));
    this.#bypass = new Set(rules.bypass);
  }

  get configured(): boolean {
    return this.#windows.length > 0;
  }

  bypasses(type: string): boolean {
    return this.#bypass.has(type);
  }

  isQuiet(at: number): boolean {
    if (this.#windows.length === 0) return false;
    const { day, minute } = this.#local(at);
    const yesterday = (day + 6) % 7;
    return this.#windows.some((w) => {
      const on = (d: number) => w.days === undefined || w.days.has(d);
      if (w.start === w.end) return on(day);
      if (w.start < w.end) return on(day) && minute >= w.start && minute < w.end;
      return (on(day) && minute >= w.start) || (on(yesterday) && minute < w.end);
    });
  }

  #local(at: number): { day: number; minute: number } {
    const parts = this.#format!.formatToParts(at);
    const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    return { day: WEEKDAY_INDEX[get('weekday')] ?? 0, minute: Number(get('hour')) * 60 + Number(get('minute')) };
  }
}

function localFormat(zone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone === 'local' ? undefined : zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch {
    throw new Error(`device.quietHours.timeZone: unknown time zone "${zone}" (use an IANA name such as Europe/Berlin, or "local")`);
  }
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}
