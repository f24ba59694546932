// Payloads on the device topics (the event topics carry Envelopes).
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

export const DEVICE_ONLINE = 'online';
export const DEVICE_OFFLINE = 'offline';

/** Why a bell did not strike (or struck less) for an event. */
export const SUPPRESS_REASONS = ['too-old', 'rate-cap', 'duplicate', 'stopped'] as const;
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
