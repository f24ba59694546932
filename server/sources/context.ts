// What every source route shares: reading a raw body as checked JSON, and the three
// ways a delivery ends (accepted once the broker holds it, duplicate, ignored). A publish
// that fails is thrown to the error handler: 503 (nothing published) or 504 (maybe
// published); providers retry any 5xx, with the same delivery, hence the same event id.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Type } from '@sinclair/typebox';
import { EventInput, toEnvelope, type Envelope, type Severity } from '../../shared/envelope.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { HttpError } from '../errors.js';
import { valueShapeProblem } from '../json-limits.js';
import type { EventPublisher } from '../publisher.js';
import type { DeliveryLog } from './deliveries.js';
import type { Verdict } from './signatures.js';

export interface SourceContext {
  publisher: EventPublisher;
  deliveries: DeliveryLog;
  clock: Pick<Clock, 'now'>;
  logger: Logger;
}

/** A provider payload mapped to one event, or the reason bellhop leaves it alone. */
export type Mapped = { event: EventInput } | { ignored: string };

export function ignore(reason: string): Mapped {
  return { ignored: reason };
}

/** GitHub and GitLab payloads of big pushes and pull requests outgrow the event API's limit. */
export const PROVIDER_BODY_LIMIT = 5 * 1024 * 1024;

/** A body a route reads: its media types, and how the 415 says what to send instead. */
export interface BodyKinds {
  types: readonly string[];
  /** Completes "send the body …". */
  hint: string;
}

/** What providers send: JSON, said so in Content-Type; the same words as /v1/events' 415. */
export const JSON_BODY: BodyKinds = { types: ['application/json'], hint: 'as JSON with Content-Type: application/json' };

/**
 * Makes the plugin's routes receive the body as a Buffer, for signatures over the raw
 * bytes, and only in the media types given: a body the route would read as JSON under
 * any other label (text/plain, application/xml, none) gets 415, as on /v1/events. A
 * compressed body is already refused for every route by the app's Content-Encoding hook.
 */
export function useRawBody(app: FastifyInstance, kinds: BodyKinds = JSON_BODY, bodyLimit?: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', ...(bodyLimit ? { bodyLimit } : {}) }, (request, body, done) => {
    const given = request.headers['content-type'];
    const type = given?.split(';')[0]!.trim().toLowerCase();
    if (type !== undefined && kinds.types.includes(type)) return done(null, body);
    done(new HttpError('unsupported_media_type', `send the body ${kinds.hint} (got ${given ?? 'no Content-Type'})`), undefined);
  });
}

/**
 * Senders that cannot set headers put their secret in the URL (?token=, ?key=). The query
 * is parsed by the time onRequest runs, so the secret is blanked out of request.url,
 * which the error handler logs.
 */
export function redactQuerySecrets(app: FastifyInstance, names: readonly string[]): void {
  const pattern = new RegExp(`([?&](?:${names.join('|')})=)[^&#]*`, 'g');
  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.raw.url;
    if (url !== undefined && url.includes('?')) request.raw.url = url.replace(pattern, '$1[redacted]');
    done();
  });
}

export function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

export function unauthorized(verdict: Verdict): void {
  if (!verdict.ok) throw new HttpError('unauthorized', verdict.reason);
}

/** A compiled payload schema: parse(raw) gives the checked value or throws 400. */
export class PayloadSchema<T extends TSchema> {
  #check: TypeCheck<T>;

  constructor(
    schema: T,
    readonly what: string,
  ) {
    this.#check = TypeCompiler.Compile(schema);
  }

  parse(raw: Buffer | string): Static<T> {
    let value: unknown;
    try {
      value = JSON.parse(raw.toString());
    } catch {
      throw new HttpError('bad_json', `body is not valid JSON (expected ${this.what})`);
    }
    // The same bound as every parsed body (server/json-limits.ts): deep bodies parse, then overflow the stack of JSON.stringify on publish.
    const shape = valueShapeProblem(value);
    if (shape) throw new HttpError('bad_json', shape);
    return this.check(value);
  }

  check(value: unknown): Static<T> {
    if (this.#check.Check(value)) return value;
    const first = this.#check.Errors(value).First();
    const where = first?.path || '/';
    throw new HttpError('invalid_payload', `not ${this.what}: ${where} ${first?.message ?? 'is invalid'}`);
  }
}

export interface AcceptOptions {
  /** Default event source, e.g. "github". */
  source: string;
  /** The provider's delivery id; a redelivery within the TTL is not published again. */
  deliveryKey?: string | undefined;
  /** Status of a first delivery (default 202). */
  status?: number;
  /** The body of an accepted delivery, for providers that expect their own shape. */
  answer?: (id: string) => Record<string, unknown>;
  /** sources.<name>.severities: the team's severity per type, over the mapping's. */
  severities?: Readonly<Record<string, Severity>>;
}

// The envelope API's own rules (lengths, type pattern); time is a mapper's ISO string,
// and TypeBox's compiler knows no formats.
const mappedEvent = new PayloadSchema(Type.Object({ ...EventInput.properties, time: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }), 'an event bellhop can publish');

/** Publishes the mapped event once the broker acknowledges it, or answers why not. */
export async function deliver(
  ctx: SourceContext,
  request: FastifyRequest,
  reply: FastifyReply,
  mapped: Mapped,
  opts: AcceptOptions,
): Promise<FastifyReply> {
  if ('ignored' in mapped) {
    request.log.debug({ source: opts.source, reason: mapped.ignored }, 'webhook ignored');
    return reply.code(200).send({ status: 'ignored', reason: mapped.ignored });
  }
  // Checked before the delivery log is asked, so a redelivery with a broken body is refused, not
  // answered "duplicate", and nothing a subscriber would drop as malformed is ever published.
  const event: EventInput = { ...mappedEvent.check(mapped.event) };
  const severity = opts.severities?.[event.type];
  if (severity !== undefined) event.severity = severity;
  // A provider retries a delivery answered 504 (sent, unconfirmed: maybe published); the
  // retry must carry the same event id for subscribers to drop it, so a delivery without
  // an id of its own gets one derived from its delivery key.
  if (event.id === undefined && opts.deliveryKey !== undefined) event.id = deliveryEventId(opts.source, opts.deliveryKey);
  const envelope = toEnvelope(event, { source: opts.source, now: () => new Date(ctx.clock.now()) });
  const publish = async (): Promise<string[]> => {
    await ctx.publisher.publish(envelope);
    return [envelope.id];
  };
  const accepted = () => {
    logAccepted(request, envelope);
    return reply.code(opts.status ?? 202).send(opts.answer ? opts.answer(envelope.id) : { status: 'accepted', id: envelope.id });
  };
  if (opts.deliveryKey === undefined) {
    await publish();
    return accepted();
  }
  const outcome = await ctx.deliveries.once(`${opts.source}:${opts.deliveryKey}`, publish);
  if (outcome.duplicate) {
    request.log.debug({ source: opts.source, deliveryId: opts.deliveryKey, eventId: outcome.ids[0] }, 'redelivery not published again');
    return reply.code(200).send({ status: 'duplicate', id: outcome.ids[0] });
  }
  return accepted();
}

/** A UUID-shaped id (version 8: name-based, SHA-256) that every attempt of a delivery shares. */
export function deliveryEventId(source: string, deliveryKey: string): string {
  const h = createHash('sha256').update(`${source}\n${deliveryKey}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** At debug, like every per-event line: `--log-level debug` follows the event id from here. */
function logAccepted(request: FastifyRequest, envelope: Envelope): void {
  request.log.debug({ eventId: envelope.id, type: envelope.type, source: envelope.source }, 'event accepted');
}

/** First non-empty header value. */
export function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

/** A `{label, url}` list the Slack sink turns into buttons; drops entries without a URL. */
export function links(...items: Array<[string, string | null | undefined]>): Array<{ label: string; url: string }> {
  return items.filter((i): i is [string, string] => typeof i[1] === 'string' && i[1] !== '').map(([label, url]) => ({ label, url }));
}

/** Seconds since the epoch (as providers send) to an ISO time, when plausible. */
export function isoFromSeconds(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  return new Date(seconds * 1000).toISOString();
}

/** Drops undefined values so data stays small and JSON-clean. */
export function compact<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}
