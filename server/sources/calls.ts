// /v1/sources/calls: a generic phone call endpoint for PBX webhooks (VoipCenter and the
// like). PBXs send what their URL templates allow: JSON, a form, or only a query string,
// by POST or GET; so fields are read from all three, under their common names.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput, Severity } from '../../shared/envelope.js';
import { HttpError } from '../errors.js';
import { compact, deliver, redactQuerySecrets, ignore, rawBody, unauthorized, useRawBody, type Mapped, type SourceContext } from './context.js';
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
export const CALL_EVENT_TYPES = { 'call.incoming': 'info', 'call.outgoing': 'info' } as const satisfies Readonly<Record<string, Severity>>;
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
    useRawBody(app);
    redactQuerySecrets(app, ['token']);
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const fields = readFields(request);
      const mapped = mapCall(fields, config);
      const callId = pick(fields, 'callId');
      const key = callId && 'event' in mapped ? `${mapped.event.type}:${callId}` : undefined;
      return deliver(ctx, request, reply, mapped, { source: 'calls', deliveryKey: key });
    };
    const onRequest = async (request: FastifyRequest) => unauthorized(checkToken(tokenOf(request, 'x-bellhop-token'), config.tokens, 'token (?token=, Authorization: Bearer or X-Bellhop-Token)'));
    app.post('/v1/sources/calls', { onRequest }, handler);
    app.get('/v1/sources/calls', { onRequest }, handler);
  };
}

type Fields = Record<string, unknown>;

/** Query string, then the body (JSON or form) over it; the token is never kept. */
export function readFields(request: FastifyRequest): Fields {
  const fields: Fields = { ...(obj(request.query) ?? {}) };
  const body = rawBody(request);
  if (body.length > 0) {
    const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/x-www-form-urlencoded') {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) fields[k] = v;
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new HttpError('bad_json', 'body is not valid JSON (or send a form, or only a query string)');
      }
      const o = obj(parsed);
      if (!o) throw new HttpError('invalid_payload', 'body must be a JSON object of call fields');
      Object.assign(fields, o);
    }
  }
  delete fields.token;
  return fields;
}

function pick(fields: Fields, field: keyof typeof CALL_FIELDS): string | undefined {
  for (const name of CALL_FIELDS[field]) {
    const v = name.includes('.') ? at(fields, ...name.split('.')) : Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object') throw new HttpError('invalid_payload', `${name}: expected a string or a number`);
    const s = str(v, 200);
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
