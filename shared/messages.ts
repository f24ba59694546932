// Payloads on the device topics (the event topics carry Envelopes).
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

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

const compiledRang = TypeCompiler.Compile(RangReport);

export function parseRang(payload: Buffer | string): RangReport | undefined {
  try {
    const v: unknown = JSON.parse(payload.toString());
    return compiledRang.Check(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Retained on devices/<id>/mute (or devices/all/mute): bells stay silent until `until`. */
export const MuteState = Type.Object({
  until: Type.Union([Type.String(), Type.Null()]),
  by: Type.Optional(Type.String()),
});
export type MuteState = Static<typeof MuteState>;

const compiledMute = TypeCompiler.Compile(MuteState);

export function parseMute(payload: Buffer | string): MuteState | undefined {
  if (payload.length === 0) return { until: null }; // a cleared retained message
  try {
    const v: unknown = JSON.parse(payload.toString());
    return compiledMute.Check(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

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
  at: Type.String(),
});
export type DeliveryReport = Static<typeof DeliveryReport>;

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
