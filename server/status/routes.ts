// The status JSON endpoints that only read, for the page and for scripts, behind the event
// API's token (the ones that ring or mute are in actions.ts):
//   GET  /v1/devices                 bells and their state
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
    request.tokenName = authenticateBearer(request, opts.tokens, 'read');
  });
  // Validation failures here are bad queries, not bad events: say so in the usual shape.
  app.setSchemaErrorFormatter((errors, dataVar) => {
    const first = errors[0];
    return new HttpError('bad_request', `${dataVar}${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`);
  });

  app.get('/v1/devices', { schema: { response: { 200: DevicesReply } } }, async () => status.devices());

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
