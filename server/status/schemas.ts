// The shapes the status endpoints answer with (and the live stream carries). They are
// also the reply schemas, so what scripts get is exactly what is documented.
import { Type, type Static } from '@sinclair/typebox';
import { SlackHealth } from '../../shared/messages.js';

const Iso = Type.String({ description: 'ISO 8601 time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T, opts: { description?: string } = {}) => Type.Union([t, Type.Null()], opts);

export const TRACE_STAGES = ['accepted', 'published', 'slack', 'rang'] as const;
export type TraceStage = (typeof TRACE_STAGES)[number];

/** ok: it happened; warn: it was held back on purpose (muted, rate cap, digest); fail: it went wrong. */
export const STEP_OUTCOMES = ['ok', 'warn', 'fail'] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

export const TraceStep = Type.Object({
  stage: Type.Union(TRACE_STAGES.map((s) => Type.Literal(s))),
  at: Iso,
  outcome: Type.Union(STEP_OUTCOMES.map((s) => Type.Literal(s))),
  text: Type.String({ description: 'One line for people, e.g. "rang office-bell (1 strike)".' }),
  deviceId: Type.Optional(Type.String()),
  strikes: Type.Optional(Type.Integer()),
  suppressed: Type.Optional(Type.String()),
  delivery: Type.Optional(Type.String({ description: 'Slack delivery status: posted, updated, threaded, digested, dropped, retrying, failed.' })),
  channel: Type.Optional(Type.String()),
  permalink: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  verifiedBy: Type.Optional(Type.String()),
  topic: Type.Optional(Type.String()),
});
export type TraceStep = Static<typeof TraceStep>;

export const EventSummary = Type.Object({
  id: Type.String(),
  type: Type.String(),
  source: Type.String(),
  severity: Type.String(),
  time: Iso,
  subject: Type.Optional(Type.String()),
  project: Type.Optional(Type.String()),
  receivedAt: Type.String({ description: 'When the server saw the event on the broker.' }),
  target: Type.Optional(Type.String({ description: 'For a ding command: the bell it was sent to.' })),
  rang: Type.Array(Type.String(), { description: 'Bells that struck for it.' }),
  silent: Type.Array(Type.String(), { description: 'Bells that reported it but did not strike.' }),
  slack: Type.Optional(Type.String({ description: 'The latest Slack delivery status.' })),
  slackChannel: Type.Optional(Type.String({ description: 'The channel of the latest Slack report, when it named one.' })),
  slackPermalink: Type.Optional(Type.String({ description: 'The link to the Slack message of the latest report (http or https only).' })),
});
export type EventSummary = Static<typeof EventSummary>;

export const Trace = Type.Object({
  eventId: Type.String(),
  event: Type.Union([EventSummary, Type.Null()], { description: 'null when only reports about the event were seen.' }),
  steps: Type.Array(TraceStep),
  truncated: Type.Boolean({ description: 'More reports arrived than are kept per event.' }),
  data: Type.Union([Type.String(), Type.Null()], { description: "The event's data as indented JSON text, at most 4096 characters; null without data or event." }),
  dataCut: Type.Boolean({ description: 'The data was longer and is cut after 4096 characters.' }),
});
export type Trace = Static<typeof Trace>;

export const DEVICE_STATES = ['online', 'offline', 'stale', 'unknown'] as const;
export type DeviceStateName = (typeof DEVICE_STATES)[number];

export const DeviceView = Type.Object({
  id: Type.String(),
  state: Type.Union(DEVICE_STATES.map((s) => Type.Literal(s)), {
    description: 'stale: says online but its heartbeat stopped; unknown: only a heartbeat or mute was seen.',
  }),
  since: Nullable(Iso),
  version: Nullable(Type.String()),
  uptimeSeconds: Type.Union([Type.Number(), Type.Null()]),
  heartbeatAt: Nullable(Iso),
  muted: Type.Boolean(),
  mutedUntil: Nullable(Iso),
  mutedBy: Nullable(Type.String({ description: 'Who set the mute in force: "@ada" from Slack, "status/<token name>" from the status page.' })),
  quiet: Type.Boolean(),
  lastRing: Type.Union([Type.Object({ eventId: Type.String(), at: Iso }), Type.Null()]),
});
export type DeviceView = Static<typeof DeviceView>;

export const DevicesReply = Type.Object({
  brokerConnected: Type.Boolean(),
  slack: Type.Union([SlackHealth, Type.Null()], { description: 'What the Slack part last said about its bot token (null until it has).' }),
  allMutedUntil: Nullable(Iso),
  allMutedBy: Nullable(Type.String()),
  devices: Type.Array(DeviceView),
});
export type DevicesReply = Static<typeof DevicesReply>;

export const StatsReply = Type.Object({
  minuteMs: Type.Integer(),
  minutes: Type.Array(
    Type.Object({ start: Iso, counts: Type.Record(Type.String(), Type.Integer()) }),
    { description: 'Events per minute by type, oldest first, the last hour.' },
  ),
  rings: Type.Record(Type.String(), Type.Integer(), { description: 'Rings per bell (reports with at least one strike) over the last hour.' }),
});
export type StatsReply = Static<typeof StatsReply>;

export const RingReply = Type.Object({
  eventId: Type.String(),
  deviceId: Type.String(),
  muted: Type.Boolean({ description: 'The bell is muted, so the ding was sent but it will not ring (its rang report says "muted").' }),
  mutedUntil: Nullable(Iso),
  mutedBy: Nullable(Type.String()),
  quiet: Type.Boolean({ description: 'The bell is in its quiet hours: it rings only if its quiet hours let bell.test through.' }),
});
export type RingReply = Static<typeof RingReply>;

export const MUTE_MINUTES = { minimum: 1, maximum: 1440 } as const;

export const MuteBody = Type.Object({ minutes: Type.Integer({ ...MUTE_MINUTES, description: 'How long to mute, in minutes.' }) }, { additionalProperties: false });
export type MuteBody = Static<typeof MuteBody>;

export const MuteReply = Type.Object({
  deviceId: Type.String({ description: 'The bell asked for, or "all".' }),
  mutedUntil: Nullable(Iso, { description: 'When it may ring again, counting the mute of all bells too; null when nothing keeps it silent.' }),
  mutedBy: Nullable(Type.String()),
  updated: Type.Array(Type.String(), { description: 'Whose retained mute was written: the bell or "all", and for an unmute of all every bell muted on its own.' }),
});
export type MuteReply = Static<typeof MuteReply>;
