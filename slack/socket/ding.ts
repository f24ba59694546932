// The slash command's words and answers, kept pure so they are tested without Slack:
//   /ding                  ring every bell that is online
//   /ding <bell>           ring one bell
//   /ding status           each bell: online/offline, last ring, mute
//   /ding mute [bell] 30m  keep bells silent for a while (Slack messages go on)
//   /ding unmute [bell]
import type { RangReport, SuppressReason } from '../../shared/messages.js';
import { mrkdwn, slackTime } from '../escape.js';
import { isMuted, type BellInfo } from './devices.js';
import type { MuteState } from '../../shared/messages.js';

export type Command =
  | { kind: 'ring'; device?: string }
  | { kind: 'status' }
  | { kind: 'mute'; device?: string; durationMs: number }
  | { kind: 'unmute'; device?: string }
  | { kind: 'help' }
  | { kind: 'invalid'; message: string };

const DEVICE_ID = /^[a-z0-9][a-z0-9_-]*$/;
const DEFAULT_MUTE_MS = 3600_000;
const MAX_MUTE_MS = 7 * 24 * 3600_000;

export function parseCommand(text: string): Command {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words.map((w) => w.toLowerCase());
  if (first === undefined) return { kind: 'ring' };
  if (first === 'help') return { kind: 'help' };
  if (first === 'status') return { kind: 'status' };
  if (first === 'mute' || first === 'unmute') {
    let device: string | undefined;
    let durationMs: number | undefined;
    for (const word of rest) {
      const ms = parseDuration(word);
      if (ms !== undefined && first === 'mute') durationMs = ms;
      else if (DEVICE_ID.test(word) && device === undefined) device = word;
      else return { kind: 'invalid', message: `I did not understand "${mrkdwn(word)}".` };
    }
    if (first === 'unmute') return device ? { kind: 'unmute', device } : { kind: 'unmute' };
    const ms = durationMs ?? DEFAULT_MUTE_MS;
    if (ms > MAX_MUTE_MS) return { kind: 'invalid', message: 'Bells can be muted for at most 7 days.' };
    return device ? { kind: 'mute', device, durationMs: ms } : { kind: 'mute', durationMs: ms };
  }
  if (rest.length === 0 && (first === 'all' || DEVICE_ID.test(first))) return first === 'all' ? { kind: 'ring' } : { kind: 'ring', device: first };
  return { kind: 'invalid', message: `I did not understand "${mrkdwn(text.trim())}".` };
}

/** "30m", "2h", "45s", "1d", "90" (minutes) -> milliseconds. */
export function parseDuration(word: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days)?$/.exec(word);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 'm';
  const size = unit.startsWith('s') ? 1000 : unit.startsWith('m') ? 60_000 : unit.startsWith('h') ? 3600_000 : 86_400_000;
  const ms = Math.round(n * size);
  return ms > 0 ? ms : undefined;
}

export function usage(name: string): string {
  return [
    `*${name}* rings the office bells.`,
    `• \`${name}\` rings every bell that is online, \`${name} office-bell\` rings one`,
    `• \`${name} status\` shows each bell: online or offline, last ring, mute`,
    `• \`${name} mute 30m\` keeps the bells silent for a while (\`${name} mute office-bell 2h\` for one); Slack messages go on`,
    `• \`${name} unmute\` lets them ring again`,
  ].join('\n');
}

// Known reasons in plain words; a reason added to the contract later is shown as is.
const REASONS: Partial<Record<SuppressReason | 'muted' | 'quiet' | 'expired' | 'caught-up', string>> = {
  'too-old': 'the ding arrived too late',
  'rate-cap': 'it has rung too often this minute',
  duplicate: 'it already rang for this',
  stopped: 'it is shutting down',
  muted: 'it is muted',
  quiet: 'it is in quiet hours',
  expired: 'the ding expired before it could ring',
  'caught-up': 'it was catching up after being offline',
};

export interface RingOutcome {
  /** Bells we asked, with their reports (missing = no answer in time). */
  asked: Array<{ id: string; report?: RangReport; afterMs?: number }>;
  offline: BellInfo[];
  waitedMs: number;
  now: number;
}

export function ringAnswer(outcome: RingOutcome): string {
  const lines: string[] = [];
  for (const { id, report, afterMs } of outcome.asked) {
    const name = `*${mrkdwn(id)}*`;
    if (!report) lines.push(`:grey_question: ${name} did not answer within ${seconds(outcome.waitedMs)}`);
    else if (report.strikes > 0) lines.push(`:bell: ${name} rang (${report.strikes} strike${report.strikes === 1 ? '' : 's'}) in ${seconds(afterMs ?? 0)}`);
    else {
      const reason = report.suppressed ? (REASONS[report.suppressed] ?? mrkdwn(report.suppressed)) : 'it was told not to';
      lines.push(`:no_bell: ${name} answered in ${seconds(afterMs ?? 0)} but did not ring: ${reason}`);
    }
  }
  for (const bell of outcome.offline) lines.push(`:red_circle: ${offlineLine(bell, outcome.now)}`);
  if (lines.length === 0) lines.push(`No bell answered within ${seconds(outcome.waitedMs)}, and none has reported to bellhop yet.`);
  return lines.join('\n');
}

export function offlineLine(bell: BellInfo, now: number): string {
  const name = `*${mrkdwn(bell.id)}*`;
  if (bell.since !== undefined) return `${name} is offline since ${slackTime(new Date(bell.since).toISOString())} (${ago(now - bell.since)})`;
  if (bell.state) return `${name} is offline (last heard from ${slackTime(bell.state.at)}, ${ago(now - Date.parse(bell.state.at))})`;
  return `${name} is offline (since before bellhop started)`;
}

export function unknownBell(id: string, known: readonly BellInfo[]): string {
  const names = known.map((b) => `\`${mrkdwn(b.id)}\``).join(', ');
  return known.length > 0
    ? `I don't know a bell called *${mrkdwn(id)}*. Bells I know: ${names}.`
    : `I don't know a bell called *${mrkdwn(id)}*; no bell has reported to bellhop yet.`;
}

export function statusAnswer(bells: readonly BellInfo[], allMute: MuteState | undefined, now: number): string {
  if (bells.length === 0) return 'No bell has reported to bellhop yet.';
  const lines = ['*Bells*'];
  for (const bell of bells) {
    const parts: string[] = [];
    if (bell.status === 'online') {
      parts.push(`:large_green_circle: *${mrkdwn(bell.id)}* online${bell.since !== undefined ? ` since ${slackTime(new Date(bell.since).toISOString())}` : ''}`);
    } else {
      parts.push(`:red_circle: ${offlineLine(bell, now)}`);
    }
    if (bell.lastRing) parts.push(`last ring ${slackTime(bell.lastRing.at, '{date_short} {time_secs}')}${bell.lastRing.type ? ` (${mrkdwn(bell.lastRing.type)})` : ''}`);
    else parts.push('no ring yet');
    if (isMuted(bell.mute, now)) parts.push(`muted until ${slackTime(bell.mute!.until!)}`);
    lines.push(`• ${parts.join(' · ')}`);
  }
  if (isMuted(allMute, now)) lines.push(`:mute: All bells are muted until ${slackTime(allMute!.until!)}${allMute!.by ? ` (by ${mrkdwn(allMute!.by)})` : ''}.`);
  return lines.join('\n');
}

export function muteAnswer(device: string | undefined, until: string, durationMs: number, name: string): string {
  const who = device ? `*${mrkdwn(device)}* is` : 'All bells are';
  return `:mute: ${who} muted until ${slackTime(until)} (${duration(durationMs)}). Slack messages go on. \`${name} unmute${device ? ` ${device}` : ''}\` to undo.`;
}

export function unmuteAnswer(device: string | undefined): string {
  return device ? `:bell: *${mrkdwn(device)}* may ring again.` : ':bell: The bells may ring again.';
}

function seconds(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function ago(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'just now';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 3600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3600_000)} h ago`;
  return `${Math.round(ms / 86_400_000)} days ago`;
}

function duration(ms: number): string {
  if (ms % 86_400_000 === 0) return plural(ms / 86_400_000, 'day');
  if (ms % 3600_000 === 0) return plural(ms / 3600_000, 'hour');
  if (ms % 60_000 === 0) return plural(ms / 60_000, 'minute');
  return plural(Math.round(ms / 1000), 'second');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
