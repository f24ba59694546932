// One error shape for every route: {error: code, message}, with the right status.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { BrokerUnavailableError, PublishUnconfirmedError } from './publisher.js';
import type { Metrics } from '../shared/metrics.js';

/** Every error code an answer can carry, with its HTTP status: the docs' table, the response schemas and the metric label come from here. */
export const ERROR_CODES = {
  bad_request: 400,
  bad_json: 400,
  invalid_event: 400,
  invalid_payload: 400,
  unknown_type: 400,
  unauthorized: 401,
  forbidden_origin: 403,
  read_only_token: 403,
  not_found: 404,
  unknown_device: 404,
  unknown_event: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  broker_unavailable: 503,
  too_many_streams: 503,
  publish_unconfirmed: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HttpError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.statusCode = ERROR_CODES[code];
  }
}

/** The one error body, for the response schemas of routes. */
export const ErrorReply = Type.Object({
  error: Type.Union(Object.keys(ERROR_CODES).map((code) => Type.Literal(code))),
  message: Type.String(),
});

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
};

declare module 'fastify' {
  interface FastifyReply {
    /** The error code this answer carries, for the refusal metric. */
    errorCode: ErrorCode | undefined;
  }
}

/** Sends the one error body and remembers its code for the metric. */
function refuse(reply: FastifyReply, code: ErrorCode, message: string, headers: Record<string, string> = {}) {
  reply.errorCode = code;
  return reply.code(ERROR_CODES[code]).headers(headers).send({ error: code, message });
}

export function installErrorHandler(app: FastifyInstance, retryAfterSeconds: number, metrics?: Metrics): void {
  app.decorateReply('errorCode', undefined);
  if (metrics) {
    // Counted where every refusal passes, by the code it was answered with.
    app.addHook('onResponse', (request, reply, done) => {
      if (reply.statusCode >= 400) metrics.eventsRejected.inc({ route: request.routeOptions.url ?? 'unknown', reason: reply.errorCode ?? String(reply.statusCode) });
      done();
    });
  }
  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    if (!(error instanceof BrokerUnavailableError) && !(error instanceof PublishUnconfirmedError)) {
      // The path only: query strings can carry webhook keys (Airbrake's ?key=).
      request.log.info({ method: request.method, path: request.url.split('?')[0], err: error.message }, 'request refused');
    }
    if (error instanceof HttpError) {
      return refuse(reply, error.code, error.message, error.headers);
    }
    // Two publish failures, told apart for the sender: 503 = certainly not published, so a
    // retry is plainly safe; 504 = it may have been published, so a retry must carry the same
    // event id (subscribers drop ids they have handled). Both are worth retrying later.
    if (error instanceof BrokerUnavailableError) {
      request.log.warn({ err: error.message }, 'broker unavailable, answering 503');
      return refuse(reply, 'broker_unavailable', `${error.message}; nothing was published: retry later`, { 'retry-after': String(retryAfterSeconds) });
    }
    if (error instanceof PublishUnconfirmedError) {
      request.log.warn({ err: error.message }, 'publish not confirmed by the broker, answering 504');
      return refuse(reply, 'publish_unconfirmed', `${error.message}; the event may have been published: retry with the same event id, duplicates are dropped by id`, {
        'retry-after': String(retryAfterSeconds),
      });
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      return refuse(reply, 'invalid_event', error.message);
    }
    const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (mapped === 'unsupported_media_type') {
      return refuse(reply, mapped, `send the body as JSON with Content-Type: application/json (got ${request.headers['content-type'] ?? 'no Content-Type'})`);
    }
    if (mapped === 'payload_too_large') {
      const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit;
      return refuse(reply, mapped, `the body is over the limit of ${limit} bytes${limit === app.initialConfig.bodyLimit ? ' (server.bodyLimit)' : ''}`);
    }
    if (mapped) return refuse(reply, mapped, error.message);
    if (error instanceof SyntaxError || fe.statusCode === 400) {
      return refuse(reply, 'bad_json', error.message);
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      reply.errorCode = 'bad_request';
      return reply.code(fe.statusCode).send({ error: 'bad_request', message: error.message });
    }
    request.log.error({ err: error }, 'unexpected error');
    return refuse(reply, 'internal', 'internal error');
  });
  app.setNotFoundHandler((request, reply) => {
    void refuse(reply, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
  });
}
