// POST /v1/beacon: front-end events sent with navigator.sendBeacon (a text/plain JSON
// body, no custom headers, so no secret). Public by design, hence: an origin allowlist
// with CORS, allowlisted event types only, a per-client rate limit and a small body limit.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import { EVENT_TYPE_PATTERN } from '../../shared/config/schema.js';
import type { EventInput, Severity } from '../../shared/envelope.js';
import { HttpError } from '../errors.js';
import { deliver, header, ignore, PayloadSchema, rawBody, useRawBody, type BodyKinds, type Mapped, type SourceContext } from './context.js';
import { RateLimiter } from './rate-limit.js';

export type BeaconConfig = SourcesConfig['beacon'];

const Beacon = Type.Object(
  {
    type: Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 100 }),
    data: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { maxProperties: 50 })),
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
const beacon = new PayloadSchema(Beacon, 'a beacon ({type, data?, subject?, id?})');
export type Beacon = ReturnType<typeof beacon.check>;

// navigator.sendBeacon sends a string as text/plain, and a page's fetch() fallback JSON.
const BEACON_BODY: BodyKinds = { types: ['text/plain', 'application/json'], hint: 'as JSON, with Content-Type text/plain (what navigator.sendBeacon sends for a string) or application/json' };

/** Anyone can send a beacon: whatever its type (sources.beacon.types), it never claims more than this. */
export const BEACON_SEVERITY: Severity = 'info';

export function beaconRoutes(ctx: SourceContext, config: BeaconConfig): FastifyPluginAsync {
  const allowed = originMatcher(config.origins);
  const limiter = new RateLimiter(config.ratePerMinute, ctx.clock);
  return async (app) => {
    useRawBody(app, BEACON_BODY, config.bodyLimit);
    // Every answer to an allowed origin carries CORS headers, refusals included, so the
    // page's fetch() fallback can read why.
    app.addHook('onSend', async (request, reply) => {
      const origin = header(request, 'origin');
      if (origin && allowed(origin)) {
        reply.header('access-control-allow-origin', origin);
        reply.header('vary', 'Origin');
      }
    });
    const checkOrigin = async (request: FastifyRequest) => {
      const origin = header(request, 'origin');
      if (!origin) throw new HttpError('forbidden_origin', 'beacons need an Origin header (browsers send one)');
      if (!allowed(origin)) throw new HttpError('forbidden_origin', `origin ${origin} is not in sources.beacon.origins`);
    };
    app.options('/v1/beacon', { onRequest: checkOrigin }, async (_request, reply: FastifyReply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'content-type')
        .header('access-control-max-age', '600')
        .send(),
    );
    app.post(
      '/v1/beacon',
      {
        bodyLimit: config.bodyLimit,
        onRequest: async (request) => {
          await checkOrigin(request);
          const verdict = limiter.take(request.ip);
          if (!verdict.ok) {
            throw new HttpError('rate_limited', `more than ${config.ratePerMinute} beacons a minute from this address`, {
              'retry-after': String(verdict.retryAfterSeconds),
            });
          }
        },
      },
      async (request, reply) => {
        const origin = header(request, 'origin')!;
        const b = beacon.parse(rawBody(request));
        const mapped = mapBeacon(b, origin, config);
        return deliver(ctx, request, reply, mapped, { source: `beacon/${hostOf(origin)}`, deliveryKey: b.id ? `${origin}:${b.id}` : undefined });
      },
    );
  };
}

export function mapBeacon(b: Beacon, origin: string, config: Pick<BeaconConfig, 'types' | 'project'>): Mapped {
  if (!config.types.includes(b.type)) return ignore(`beacon type ${b.type} is not in sources.beacon.types`);
  const input: EventInput = {
    type: b.type,
    severity: BEACON_SEVERITY,
    data: { ...(b.data ?? {}), origin },
  };
  if (b.subject) input.subject = b.subject;
  if (config.project) input.project = config.project;
  return { event: input };
}

/** Exact origins, or `https://*.example.com` for any subdomain of example.com. */
export function originMatcher(origins: readonly string[]): (origin: string) => boolean {
  const exact = new Set(origins.filter((o) => !o.includes('*')).map((o) => o.toLowerCase()));
  const patterns = origins
    .filter((o) => o.includes('*.'))
    .map((o) => new RegExp(`^${o.toLowerCase().split('*.').map(escapeRegExp).join('([a-z0-9-]+\\.)+')}$`));
  return (origin) => {
    const o = origin.toLowerCase();
    return exact.has(o) || patterns.some((p) => p.test(o));
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function hostOf(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return 'unknown';
  }
}
