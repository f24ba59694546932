// Slack's mrkdwn gives &, < and > a meaning (entities, links, @-mentions), so every
// value that came from an event is escaped before it goes into mrkdwn. plain_text
// (headers, button labels) is shown as is and must not be escaped, or people
// would read "&amp;".

/** Escapes a value for a mrkdwn text: only these three, as Slack documents. */
export function mrkdwn(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Shortens to at most `max` characters, marking the cut. */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  return `${value.slice(0, Math.max(0, max - 1))}…`;
}

/** A value of any shape as one line of text (objects as JSON). */
export function display(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** A Slack date token: shown in each reader's own time zone, with a UTC fallback. */
export function slackTime(iso: string, format = '{time_secs}'): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return mrkdwn(iso);
  const fallback = new Date(ms).toISOString().slice(11, 19);
  return `<!date^${Math.floor(ms / 1000)}^${format}|${fallback} UTC>`;
}

/** Plain clock time (UTC), for plain_text and the text fallback. */
export function plainTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}
