// The status JSON endpoints, for the page and for scripts, behind the event API's token:
//   GET  /v1/devices                 bells and their state
//   POST /v1/devices/:id/ring        a bell.test ding to one bell
//   GET  /v1/events/recent           recent events, newest first (?type=&source=&severity=&limit=)
//   GET  /v1/events/:id/trace        where one event went
//   GET  /v1/events/stats            events per minute by type and rings per bell, last hour
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { SEVERITIES } from '../../shared/envelope.js';
import { authenticateBearer, type ApiToken } from '../auth.js';
import { ErrorReply, HttpError } from '../errors.js';
import type { StatusPart } from './part.js';
import { DevicesReply, EventSummary, StatsReply, Trace } from './schemas.js';

export interface StatusRouteOptions {
  status: StatusPart;
  tokens: readonly ApiToken[];
}

const DEVICE_ID = '^[a-z0-9][a-z0-9_-]*$';

const RecentQuery = Type.Object(
  {
    type: Type.Optional(Type.String({ maxLength: 100, description: 'Exact type or a glob ("user.*").' })),
    source: Type.Optional(Type.String({ maxLength: 500, description: 'Exact source or a glob ("api/*").' })),
    severity: Type.Optional(Type.String({ maxLength: 100, description: 'One severity or a comma list ("error,critical").' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  },
  { additionalProperties: false },
);
type RecentQuery = Static<typeof RecentQuery>;

export const statusRoutes: FastifyPluginAsync<StatusRouteOptions> = async (app, opts) => {
  const { status } = opts;
  app.addHook('onRequest', async (request) => {
    request.tokenName = authenticateBearer(request, opts.tokens);
  });
  // Validation failures here are bad queries, not bad events: say so in the usual shape.
  app.setSchemaErrorFormatter((errors, dataVar) => {
    const first = errors[0];
    return new HttpError('bad_request', `${dataVar}${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`);
  });

  app.get('/v1/devices', { schema: { response: { 200: DevicesReply } } }, async () => status.devices());

  app.post(
    '/v1/devices/:id/ring',
    {
      schema: {
        params: Type.Object({ id: Type.String({ pattern: DEVICE_ID, maxLength: 100 }) }),
        response: { 202: Type.Object({ eventId: Type.String(), deviceId: Type.String() }), 404: ErrorReply },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const { id } = request.params;
      if (!status.knowsDevice(id)) throw new HttpError('unknown_device', `no bell "${id}" has reported to this server`);
      const eventId = await status.ring(id, request.tokenName ?? 'anonymous');
      return reply.code(202).send({ eventId, deviceId: id });
    },
  );

  app.get(
    '/v1/events/recent',
    { schema: { querystring: RecentQuery, response: { 200: Type.Object({ events: Type.Array(EventSummary) }) } } },
    async (request: FastifyRequest<{ Querystring: RecentQuery }>) => {
      const q = request.query;
      const severities = q.severity?.split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = severities?.find((s) => !(SEVERITIES as readonly string[]).includes(s));
      if (unknown) throw new HttpError('bad_request', `unknown severity "${unknown}" (one of ${SEVERITIES.join(', ')})`);
      return { events: status.recent({ type: q.type, source: q.source, severities, limit: q.limit === undefined ? undefined : Number(q.limit) }) };
    },
  );

  app.get('/v1/events/stats', { schema: { response: { 200: StatsReply } } }, async () => status.stats());

  app.get(
    '/v1/events/:id/trace',
    { schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }), response: { 200: Trace, 404: ErrorReply } } },
    async (request: FastifyRequest<{ Params: { id: string } }>) => {
      const trace = status.trace(request.params.id);
      if (!trace) throw new HttpError('unknown_event', `nothing is known about event "${request.params.id}" (only the last events are kept)`);
      return trace;
    },
  );
};
