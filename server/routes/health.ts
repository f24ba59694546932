// GET /healthz (the process is up) and GET /readyz (it can reach the broker).
import type { FastifyPluginAsync } from 'fastify';

export interface HealthRouteOptions {
  /** Named readiness checks; /readyz is 200 only when all pass. */
  checks: Record<string, () => boolean>;
}

export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, opts) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const results = Object.fromEntries(Object.entries(opts.checks).map(([name, check]) => [name, check()]));
    const ready = Object.values(results).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
  });
};
