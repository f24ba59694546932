// GET /metrics in Prometheus' text format. It holds counts only, no secrets, so it is
// open like most exporters; the server listens on loopback unless configured otherwise.
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../../shared/metrics.js';

export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
};
