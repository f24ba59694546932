// One error shape for every route: {error: code, message}, with the right status.
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { BrokerUnavailableError, PublishUnconfirmedError } from './publisher.js';
import type { Metrics } from '../shared/metrics.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The one error body, for the response schemas of routes. */
export const ErrorReply = Type.Object({ error: Type.String(), message: Type.String() });

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'bad_json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'bad_json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request'],
};

export function installErrorHandler(app: FastifyInstance, retryAfterSeconds: number, metrics?: Metrics): void {
  if (metrics) {
    // Counted where every refusal passes: the JSON body's error code is the reason.
    app.addHook('onSend', (request, reply, payload, done) => {
      if (reply.statusCode >= 400 && typeof payload === 'string') {
        const reason = /"error":"([a-z_]+)"/.exec(payload)?.[1] ?? String(reply.statusCode);
        metrics.eventsRejected.inc({ route: request.routeOptions.url ?? 'unknown', reason });
      }
      done(null, payload);
    });
  }
  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    if (!(error instanceof BrokerUnavailableError) && !(error instanceof PublishUnconfirmedError)) {
      // The path only: query strings can carry webhook keys (Airbrake's ?key=).
      request.log.info({ method: request.method, path: request.url.split('?')[0], err: error.message }, 'request refused');
    }
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).headers(error.headers).send({ error: error.code, message: error.message });
    }
    // Two publish failures, told apart for the sender: 503 = certainly not published, so a
    // retry is plainly safe; 504 = it may have been published, so a retry must carry the same
    // event id (subscribers drop ids they have handled). Both are worth retrying later.
    if (error instanceof BrokerUnavailableError) {
      request.log.warn({ err: error.message }, 'broker unavailable, answering 503');
      return reply
        .code(503)
        .header('retry-after', String(retryAfterSeconds))
        .send({ error: 'broker_unavailable', message: `${error.message}; nothing was published: retry later` });
    }
    if (error instanceof PublishUnconfirmedError) {
      request.log.warn({ err: error.message }, 'publish not confirmed by the broker, answering 504');
      return reply
        .code(504)
        .header('retry-after', String(retryAfterSeconds))
        .send({ error: 'publish_unconfirmed', message: `${error.message}; the event may have been published: retry with the same event id, duplicates are dropped by id` });
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      return reply.code(400).send({ error: 'invalid_event', message: error.message });
    }
    const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (mapped) return reply.code(mapped[0]).send({ error: mapped[1], message: error.message });
    if (error instanceof SyntaxError || fe.statusCode === 400) {
      return reply.code(400).send({ error: 'bad_json', message: error.message });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ error: 'bad_request', message: error.message });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
