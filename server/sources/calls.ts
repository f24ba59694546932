// /v1/sources/calls: a generic phone call endpoint for PBX webhooks (VoipCenter and the
// like). PBXs send what their URL templates allow: JSON, a form, or only a query string,
// by POST or GET; so fields are read from all three, under their common names.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput } from '../../shared/envelope.js';
import { SOURCE_TYPES } from '../../shared/event-types.js';
import { HttpError } from '../errors.js';
import { compact, deliver, redactQuerySecrets, ignore, PayloadSchema, rawBody, unauthorized, useRawBody, type BodyKinds, type Mapped, type SourceContext } from './context.js';
import { tokenOf } from './coder.js';
import { checkToken } from './signatures.js';
import { at, obj, str } from './values.js';

export type CallsConfig = SourcesConfig['calls'];

/**
 * Field -> the names PBXs commonly use for it, first match wins; dotted names read nested
 * JSON (Voys sends caller.number). from/to pairs are read by direction: on an incoming
 * call the other party is "from", on an outgoing one it is "to".
 */
export const CALL_FIELDS = {
  direction: ['direction', 'dir', 'call_direction'],
  number: ['number', 'caller.number', 'caller', 'callerid', 'caller_id', 'caller_id_number', 'caller_number', 'ani'],
  name: ['name', 'caller.name', 'callername', 'caller_name', 'caller_id_name', 'phonebook_caller_name'],
  line: ['line', 'destination.number', 'did', 'inboundNumber', 'destination_number', 'dnis', 'callee_number'],
  callId: ['callId', 'callid', 'call_id', 'calluniqueid', 'uuid'],
  event: ['event', 'status_desc', 'status', 'state'],
  agent: ['agent', 'extension', 'agent_name'],
  from: ['from', 'callfrom'],
  to: ['to', 'callto'],
} as const;

/** Every type this source emits, with its severity; `bellhop types` lists the same table. */
export const CALL_EVENT_TYPES = SOURCE_TYPES.calls;

// What each field may be: a number is a phone number only when it is a positive integer
// (a JSON -0 or 0 is no one's number), a direction only ever a word.
const Phone = Type.Union([Type.String(), Type.Integer({ exclusiveMinimum: 0 })]);
const Code = Type.Union([Type.String(), Type.Integer({ minimum: 0 })]);
const KINDS: Record<keyof typeof CALL_FIELDS, TSchema> = {
  direction: Type.String(),
  number: Phone,
  name: Type.String(),
  line: Phone,
  callId: Code,
  event: Code,
  agent: Code,
  from: Phone,
  to: Phone,
};

/** Every name in CALL_FIELDS with its kind; a dotted name makes its head an object (or, when the head is a name too, either). */
function callFieldsSchema(): TObject {
  const top = new Map<string, TSchema>();
  const nested = new Map<string, Record<string, TSchema>>();
  for (const [field, names] of Object.entries(CALL_FIELDS) as Array<[keyof typeof CALL_FIELDS, readonly string[]]>) {
    for (const name of names) {
      const [head, leaf] = name.split('.') as [string, string | undefined];
      if (leaf === undefined) top.set(head, KINDS[field]);
      else nested.set(head, { ...nested.get(head), [leaf]: Type.Optional(KINDS[field]) });
    }
  }
  const props: Record<string, TSchema> = {};
  for (const [head, leaves] of nested) {
    const o = Type.Object(leaves);
    const alias = top.get(head);
    props[head] = Type.Optional(alias ? Type.Union([alias, o]) : o);
  }
  for (const [name, kind] of top) if (!(name in props)) props[name] = Type.Optional(kind);
  return Type.Object(props);
}
const callFields = new PayloadSchema(callFieldsSchema(), 'a call');
const jsonFields = new PayloadSchema(Type.Record(Type.String(), Type.Unknown()), 'a JSON object of call fields');

// PBXs post JSON or a form, or put everything in the query string and send no body.
const CALL_BODY: BodyKinds = {
  types: ['application/json', 'application/x-www-form-urlencoded'],
  hint: 'as JSON (Content-Type: application/json) or as a form (application/x-www-form-urlencoded), or send the fields in the query string only',
};
const DIRECTIONS = new Map<string, keyof typeof CALL_EVENT_TYPES>([
  ['incoming', 'call.incoming'],
  ['inbound', 'call.incoming'],
  ['in', 'call.incoming'],
  ['outgoing', 'call.outgoing'],
  ['outbound', 'call.outgoing'],
  ['out', 'call.outgoing'],
]);

export function callsRoutes(ctx: SourceContext, config: CallsConfig): FastifyPluginAsync {
  return async (app) => {
    useRawBody(app, CALL_BODY);
    redactQuerySecrets(app, ['token']);
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const fields = readFields(request);
      const mapped = mapCall(fields, config);
      const callId = pick(fields, 'callId');
      const key = callId && 'event' in mapped ? `${mapped.event.type}:${callId}` : undefined;
      return deliver(ctx, request, reply, mapped, { source: 'calls', deliveryKey: key, severities: config.severities });
    };
    const onRequest = async (request: FastifyRequest) => unauthorized(checkToken(tokenOf(request, 'x-bellhop-token'), config.tokens, 'token (?token=, Authorization: Bearer or X-Bellhop-Token)'));
    app.post('/v1/sources/calls', { onRequest }, handler);
    app.get('/v1/sources/calls', { onRequest }, handler);
  };
}

type Fields = Record<string, unknown>;

/** Query string, then the body (JSON or form) over it, checked as a whole; the token is never kept. */
export function readFields(request: FastifyRequest): Fields {
  const fields: Fields = { ...(obj(request.query) ?? {}) };
  const body = rawBody(request);
  if (body.length > 0) {
    const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/x-www-form-urlencoded') {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) fields[k] = v;
    } else {
      Object.assign(fields, jsonFields.parse(body));
    }
  }
  delete fields.token;
  return callFields.check(fields);
}

function pick(fields: Fields, field: keyof typeof CALL_FIELDS): string | undefined {
  for (const name of CALL_FIELDS[field]) {
    const v = name.includes('.') ? at(fields, ...name.split('.')) : Object.hasOwn(fields, name) ? fields[name] : undefined;
    // An object under a name that is also a dotted head (caller: {number}) was read by its dotted name.
    const s = typeof v === 'object' ? undefined : str(v, 200);
    if (s !== undefined) return s.trim();
  }
  return undefined;
}

export function mapCall(fields: Fields, config: Pick<CallsConfig, 'events' | 'project'>): Mapped {
  const event = pick(fields, 'event');
  const wanted = config.events.map((e) => e.toLowerCase());
  if (event !== undefined && !wanted.includes(event.toLowerCase())) return ignore(`call event "${event}" is not in sources.calls.events`);
  const direction = (pick(fields, 'direction') ?? 'incoming').toLowerCase();
  const type = DIRECTIONS.get(direction);
  if (!type) throw new HttpError('invalid_payload', `direction: expected incoming or outgoing, got "${direction}"`);
  const incoming = type === 'call.incoming';
  const number = pick(fields, 'number') ?? pick(fields, incoming ? 'from' : 'to');
  if (!number) throw new HttpError('invalid_payload', `number: required (the other party's number, or "anonymous"); also read from ${CALL_FIELDS.number.slice(1).join(', ')}`);
  const name = pick(fields, 'name');
  const input: EventInput = {
    type,
    severity: CALL_EVENT_TYPES[type],
    subject: number,
    data: compact({
      direction: incoming ? 'incoming' : 'outgoing',
      number,
      name,
      line: pick(fields, 'line') ?? pick(fields, incoming ? 'to' : 'from'),
      callId: pick(fields, 'callId'),
      event,
      agent: pick(fields, 'agent'),
    }),
  };
  if (config.project) input.project = config.project;
  return { event: input };
}
