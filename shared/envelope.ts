// The event envelope: CloudEvents 1.0, structured JSON mode, with two extension
// attributes (severity, project). The one source of truth for every part.
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { EVENT_TYPE_PATTERN } from './config/schema.js';
import { Severity } from './config/sections/common.js';

export { SEVERITIES, Severity } from './config/sections/common.js';

const Id = Type.String({ minLength: 1, maxLength: 200 });
const EventTypeName = Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 100 });
const Source = Type.String({ minLength: 1, maxLength: 500 });
const Subject = Type.String({ minLength: 1, maxLength: 500 });
const Project = Type.String({ minLength: 1, maxLength: 200 });
const Time = Type.String({ format: 'date-time' });
const Data = Type.Record(Type.String(), Type.Unknown());

export const Envelope = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Id,
    source: Source,
    type: EventTypeName,
    time: Time,
    subject: Type.Optional(Subject),
    datacontenttype: Type.Optional(Type.Literal('application/json')),
    data: Type.Optional(Data),
    severity: Severity,
    project: Type.Optional(Project),
  },
  { additionalProperties: true },
);
export type Envelope = Static<typeof Envelope>;

/** What a sender writes: the short form the server turns into an Envelope. */
export const EventInput = Type.Object(
  {
    type: EventTypeName,
    data: Type.Optional(Data),
    id: Type.Optional(Id),
    source: Type.Optional(Source),
    severity: Type.Optional(Severity),
    subject: Type.Optional(Subject),
    project: Type.Optional(Project),
    time: Type.Optional(Time),
    // Standard Webhooks' recommended body is {type, timestamp, data}: its timestamp is our time.
    timestamp: Type.Optional(Time),
  },
  { additionalProperties: false },
);
export type EventInput = Static<typeof EventInput>;

export interface EnvelopeDefaults {
  source: string;
  now?: () => Date;
  newId?: () => string;
}

export function toEnvelope(input: EventInput, defaults: EnvelopeDefaults): Envelope {
  const env: Envelope = {
    specversion: '1.0',
    id: input.id ?? (defaults.newId ?? randomUUID)(),
    source: input.source ?? defaults.source,
    type: input.type,
    time: input.time ?? input.timestamp ?? (defaults.now?.() ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    severity: input.severity ?? 'info',
  };
  if (input.subject !== undefined) env.subject = input.subject;
  if (input.project !== undefined) env.project = input.project;
  if (input.data !== undefined) env.data = input.data;
  return env;
}

// TypeBox's compiler has no built-in formats; a parse is the check that matters.
const compiledEnvelope = TypeCompiler.Compile(Type.Object({ ...Envelope.properties, time: Type.String({ minLength: 1 }) }));

export class EnvelopeError extends Error {}

/** Parses an MQTT payload into an Envelope, for subscribers (they trust nothing on the wire). */
export function parseEnvelope(payload: Buffer | string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch {
    throw new EnvelopeError('payload is not JSON');
  }
  if (!compiledEnvelope.Check(value)) {
    const first = compiledEnvelope.Errors(value).First();
    throw new EnvelopeError(`not an event envelope: ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}`);
  }
  if (Number.isNaN(Date.parse(value.time))) throw new EnvelopeError('not an event envelope: /time is not a date');
  return value as Envelope;
}
