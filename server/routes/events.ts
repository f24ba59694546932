// POST /v1/events: our own event API. One event or a batch, short form in,
// envelopes out to MQTT, 202 only once the broker holds every one of them.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { EventInput, toEnvelope, type Envelope } from '../../shared/envelope.js';
import { authenticateBearer, TokenSet, type ApiToken } from '../auth.js';
import { ErrorReply, HttpError } from '../errors.js';
import type { EventPublisher } from '../publisher.js';
import type { SignedEvents } from '../sources/standard-webhooks.js';

export interface EventsRouteOptions {
  tokens: readonly ApiToken[];
  publisher: EventPublisher;
  maxBatch: number;
  acceptsType: (type: string) => boolean;
  /** Standard Webhooks signing as an alternative to bearer tokens (sources.standardWebhooks). */
  signed?: SignedEvents | undefined;
}

interface AjvLikeError {
  instancePath: string;
  schemaPath: string;
  message?: string;
  params?: Record<string, unknown>;
}

export const eventsRoutes: FastifyPluginAsync<EventsRouteOptions> = async (app, opts) => {
  const body = Type.Union([EventInput, Type.Array(EventInput, { minItems: 1, maxItems: opts.maxBatch })]);
  const tokens = new TokenSet(opts.tokens);
  // The line every accepted event gets (at debug: a line per event is what the default
  // deployment could least afford) has a fixed, secret-free shape ({eventId, type}), so it
  // skips redaction, which would double its cost on the hot path.
  const accepted = app.log.child({}, { redact: [] });
  if (opts.signed) opts.signed.install(app);
  // fastify reads text/plain by default; here it is not an event, so it is answered 415.
  app.removeContentTypeParser('text/plain');

  app.post(
    '/v1/events',
    {
      schema: {
        body,
        response: {
          202: Type.Object({ ids: Type.Array(Type.String()) }),
          // broker_unavailable: nothing was published; retry later.
          503: ErrorReply,
          // publish_unconfirmed: sent, no acknowledgement in time; retry with the same ids.
          504: ErrorReply,
        },
      },
      attachValidation: true,
      // A callback hook, not an async one: this runs on every request of the hot path.
      onRequest: (request, _reply, done) => {
        // A signed delivery is verified over the raw body, by the parser install() set up.
        if (opts.signed !== undefined && opts.signed.defers(request)) return done();
        try {
          request.tokenName = authenticateBearer(request, tokens);
          done();
        } catch (err) {
          done(err as Error);
        }
      },
    },
    async (request, reply) => {
      if (request.tokenName === undefined) throw new HttpError('unauthorized', 'a signed delivery needs a JSON body');
      if (request.validationError) throw invalid(request, opts.maxBatch);
      const inputs = Array.isArray(request.body) ? request.body : [request.body as EventInput];
      for (const [i, input] of inputs.entries()) {
        if (!opts.acceptsType(input.type)) {
          const where = Array.isArray(request.body) ? `/${i}/type` : '/type';
          throw new HttpError('unknown_type',
            `${where}: unknown event type "${input.type}" (add it to server.eventTypes to accept it)`,
          );
        }
        if (input.time !== undefined && input.timestamp !== undefined && Date.parse(input.time) !== Date.parse(input.timestamp)) {
          const at = Array.isArray(request.body) ? `/${i}` : '';
          throw new HttpError('invalid_event', `${at}/timestamp: ${input.timestamp} disagrees with ${at}/time ${input.time}; send one of them (timestamp is the Standard Webhooks name for time)`);
        }
      }
      const source = `api/${request.tokenName ?? 'anonymous'}`;
      if (request.webhookId !== undefined) return opts.signed!.deliver(request, reply, inputs, source);
      const envelopes: Envelope[] = inputs.map((input) => toEnvelope(input, { source }));
      await opts.publisher.publishMany(envelopes);
      for (const e of envelopes) accepted.debug({ eventId: e.id, type: e.type }, 'event accepted');
      return reply.code(202).send({ ids: envelopes.map((e) => e.id) });
    },
  );
};

/** Picks the errors of the branch the body was meant for (object or array) for a readable message. */
function invalid(request: FastifyRequest, maxBatch: number): HttpError {
  const errors = (request.validationError as unknown as { validation?: AjvLikeError[] }).validation ?? [];
  const isArray = Array.isArray(request.body);
  if (isArray && (request.body as unknown[]).length > maxBatch) {
    return new HttpError('invalid_event', `a batch holds at most ${maxBatch} events`);
  }
  if (!isArray && (typeof request.body !== 'object' || request.body === null)) {
    return new HttpError('invalid_event', 'body must be an event object or an array of events');
  }
  const branch = `#/anyOf/${isArray ? 1 : 0}/`;
  const relevant = errors.find((e) => e.schemaPath.startsWith(branch)) ?? errors[0];
  if (!relevant) return new HttpError('invalid_event', 'invalid event');
  const where = relevant.instancePath || '/';
  const extra = relevant.params?.additionalProperty;
  // A union of literals (severity) fails once per literal: say the allowed values, not "must be equal to constant".
  const allowed = errors.filter((e) => e.instancePath === relevant.instancePath && e.params?.allowedValue !== undefined).map((e) => String(e.params!.allowedValue));
  const message = extra ? `unknown field "${String(extra)}"` : allowed.length > 1 ? `must be one of ${[...new Set(allowed)].join(', ')}` : (relevant.message ?? 'invalid');
  return new HttpError('invalid_event', `${where}: ${message}`);
}
