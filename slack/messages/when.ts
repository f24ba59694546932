// Times in Slack's date token, so each reader sees their own time zone, with a UTC
// fallback for the notification text and clients that cannot show the token.
import { markup, type Text } from './text.js';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An ISO time, or epoch seconds or milliseconds (providers send all three), as ms. */
export function epochMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value < 1e11 ? value * 1000 : value;
  if (typeof value === 'string' && value.trim() !== '') {
    if (/^\d+$/.test(value.trim())) return epochMs(Number(value));
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** "Fri 30 May 2025, 09:00 UTC". */
export function plainDate(ms: number): string {
  const d = new Date(ms);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

/** A date and time: `<!date^epoch^{date_short_pretty} {time}|fallback>`. */
export function when(value: unknown): Text | undefined {
  const ms = epochMs(value);
  if (ms === undefined) return undefined;
  const fallback = plainDate(ms);
  return markup(`<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${fallback}>`, fallback);
}

/** 385 -> "6m 25s", 4000 -> "1h 6m". */
export function duration(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const m = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)}h${m ? ` ${m}m` : ''}`;
}
