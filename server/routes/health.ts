// GET /healthz (the process is up) and GET /readyz (it can reach the broker).
import type { FastifyPluginAsync } from 'fastify';

/** true: ready; false or a sentence saying why and what to do: not ready; `{warning}`: ready, with something to fix. */
export type ReadinessCheck = () => boolean | string | { warning: string };

export interface HealthRouteOptions {
  /** Named readiness checks; /readyz is 200 only when all pass. */
  checks: Record<string, ReadinessCheck>;
}

export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, opts) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const results: Record<string, boolean> = {};
    const problems: Record<string, string> = {};
    // Kept apart from problems, so a monitor never reads them as the cause of a 503.
    const warnings: Record<string, string> = {};
    for (const [name, check] of Object.entries(opts.checks)) {
      const result = check();
      results[name] = result === true || typeof result === 'object';
      if (typeof result === 'string') problems[name] = result;
      if (typeof result === 'object') warnings[name] = result.warning;
    }
    const ready = Object.values(results).every(Boolean);
    const body = {
      status: ready ? 'ready' : 'not_ready',
      checks: results,
      ...(Object.keys(problems).length > 0 ? { problems } : {}),
      ...(Object.keys(warnings).length > 0 ? { warnings } : {}),
    };
    return reply.code(ready ? 200 : 503).send(body);
  });
};
