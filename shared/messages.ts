// Payloads on the device topics (the event topics carry Envelopes).
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** The one way a subscriber reads a JSON payload: the value if it fits the schema, else undefined. */
export function parse<T extends TSchema>(schema: T, payload: Buffer | string): Static<T> | undefined {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  try {
    const value: unknown = JSON.parse(payload.toString());
    return check.Check(value) ? (value as Static<T>) : undefined;
  } catch {
    return undefined;
  }
}

export const DEVICE_ONLINE = 'online';
export const DEVICE_OFFLINE = 'offline';

/** Why a bell did not strike (or struck less) for an event. */
export const SUPPRESS_REASONS = ['too-old', 'rate-cap', 'duplicate', 'stopped', 'expired', 'muted', 'quiet', 'caught-up'] as const;
export type SuppressReason = (typeof SUPPRESS_REASONS)[number];

export const RangReport = Type.Object({
  eventId: Type.String(),
  deviceId: Type.String(),
  type: Type.String(),
  strikes: Type.Integer({ minimum: 0 }),
  at: Type.String(),
  suppressed: Type.Optional(Type.Union(SUPPRESS_REASONS.map((r) => Type.Literal(r)))),
});
export type RangReport = Static<typeof RangReport>;

export const parseRang = (payload: Buffer | string): RangReport | undefined => parse(RangReport, payload);

/** Retained on devices/<id>/mute (or devices/all/mute): bells stay silent until `until`. */
export const MuteState = Type.Object({
  until: Type.Union([Type.String(), Type.Null()]),
  by: Type.Optional(Type.String()),
});
export type MuteState = Static<typeof MuteState>;

export function parseMute(payload: Buffer | string): MuteState | undefined {
  if (payload.length === 0) return { until: null }; // a cleared retained message
  return parse(MuteState, payload);
}

/** When a mute state stops silencing the bells (epoch ms), or null when it does not now. */
export function mutedUntil(mute: MuteState | undefined, now: number): number | null {
  if (!mute?.until) return null;
  const until = Date.parse(mute.until);
  return !Number.isNaN(until) && until > now ? until : null;
}

export const isMuted = (mute: MuteState | undefined, now: number): boolean => mutedUntil(mute, now) !== null;

/** At most this many events in one delivery report (about 20 KB of ids). */
export const MAX_IDS_PER_REPORT = 500;

/**
 * What the Slack sink did with an event, on <prefix>/slack/delivered (not retained),
 * so the status page can trace an event without polling anyone.
 */
export const DELIVERY_STATUSES = ['posted', 'updated', 'threaded', 'digested', 'dropped', 'retrying', 'failed'] as const;
export const DeliveryReport = Type.Object({
  eventId: Type.String(),
  status: Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s))),
  channel: Type.Optional(Type.String()),
  ts: Type.Optional(Type.String()),
  permalink: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  /** Set by a sink without a bot token: nothing reached Slack, it was only printed. */
  dryRun: Type.Optional(Type.Boolean()),
  /** The same outcome for these events too: a digest reports its events in a few messages, not one each. */
  alsoEventIds: Type.Optional(Type.Array(Type.String(), { maxItems: MAX_IDS_PER_REPORT })),
  at: Type.String(),
});
export type DeliveryReport = Static<typeof DeliveryReport>;

/** Every event a delivery report speaks for. */
export const reportedEventIds = (report: { eventId: string; alsoEventIds?: string[] | undefined }): string[] =>
  report.alsoEventIds ? [report.eventId, ...report.alsoEventIds] : [report.eventId];

/**
 * Whether Slack takes the sink's bot token, retained on <prefix>/slack/health, so the
 * status page of any server (in another process or on another machine) can say so.
 * `checking`: auth.test has not answered yet. `fix` is the sentence a person acts on; `reason` is Slack's error code or the network error.
 */
export const SLACK_HEALTH_STATES = ['checking', 'ok', 'dry_run', 'token_refused', 'unreachable'] as const;
export const SlackHealth = Type.Object({
  state: Type.Union(SLACK_HEALTH_STATES.map((s) => Type.Literal(s))),
  reason: Type.Optional(Type.String()),
  fix: Type.Optional(Type.String()),
  /** Deliveries waiting in the sink's outbox when this was said. */
  pending: Type.Optional(Type.Integer({ minimum: 0 })),
  /**
   * Can the sink look in Slack for a post it may already have made (after a crash, or an answer
   * lost to a timeout)? `degraded`: Slack will not let it read a channel's history, so such a post
   * is sent again and may show twice. Absent until the sink has read (or tried to read) a channel.
   */
  exactlyOnce: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('degraded')])),
  /** What Slack refused, e.g. `missing_scope: channels:history` or `not_in_channel: #ops` (`; ` between several). */
  degradedReason: Type.Optional(Type.String()),
  /** The sentence a person acts on to make it `ok` again. */
  degradedFix: Type.Optional(Type.String()),
  at: Type.String(),
});
export type SlackHealth = Static<typeof SlackHealth>;

export const parseSlackHealth = (payload: Buffer | string): SlackHealth | undefined => parse(SlackHealth, payload);

/** Retained on devices/<id>/state every heartbeat interval. */
export const DeviceState = Type.Object({
  deviceId: Type.String(),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  lastRing: Type.Optional(Type.Object({ eventId: Type.String(), at: Type.String() })),
  muted: Type.Boolean(),
  quiet: Type.Boolean(),
  at: Type.String(),
});
export type DeviceState = Static<typeof DeviceState>;
