// The HTTP app: fastify with one error shape, the event API and health routes.
// Kept free of MQTT and process concerns so tests can inject a publisher.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from '../shared/logger.js';
import type { ServerConfig, SourcesConfig } from '../shared/config/schema.js';
import { makeTypeFilter } from '../shared/event-types.js';
import { HttpError, installErrorHandler } from './errors.js';
import { guardJsonShape } from './json-limits.js';
import { eventsRoutes } from './routes/events.js';
import { decorateRequestFields } from './request-fields.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import type { Metrics } from '../shared/metrics.js';
import type { EventPublisher } from './publisher.js';
import type { ApiToken } from './auth.js';
import { openSources } from './sources/index.js';

export interface AppOptions {
  config: ServerConfig;
  tokens: readonly ApiToken[];
  publisher: EventPublisher;
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
  /** Further route groups (webhook sources, status page) registered after the core ones. */
  plugins?: ReadonlyArray<FastifyPluginAsync>;
  /** Serves GET /metrics and counts refusals when given. */
  metrics?: Metrics;
  /** Webhook sources and Standard Webhooks signing on /v1/events; their dedup log lives in dataDir. */
  sources?: { config: SourcesConfig; dataDir: string };
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // Per-request lines would flood a Pi's journal; refusals are logged below instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.config.bodyLimit,
    // Slow clients (slowloris) are cut: the whole request within requestTimeoutMs, checked each second
    // (Node's default check runs every 30 s, which would triple the time a socket can be held).
    requestTimeout: opts.config.requestTimeoutMs,
    http: { headersTimeout: opts.config.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  app.server.maxConnections = opts.config.maxConnections;
  installErrorHandler(app, opts.config.retryAfterSeconds, opts.metrics);
  guardJsonShape(app);
  decorateRequestFields(app);
  // Nothing here inflates bodies: a compressed one would be read as garbage, or worse, as plain.
  app.addHook('onRequest', async (request) => {
    const coding = request.headers['content-encoding']?.trim().toLowerCase();
    if (coding && coding !== 'identity') {
      throw new HttpError('unsupported_media_type', `Content-Encoding ${coding} is not accepted: send the body uncompressed`);
    }
  });
  const publisher = opts.publisher;
  const sources = opts.sources && (await openSources({ ...opts.sources, publisher, logger: opts.logger }));
  if (sources) app.addHook('onClose', () => sources.close());
  await app.register(healthRoutes, { checks: opts.readiness });
  if (opts.metrics) await app.register(metricsRoutes, { metrics: opts.metrics });
  await app.register(eventsRoutes, {
    tokens: opts.tokens,
    publisher: opts.publisher,
    maxBatch: opts.config.maxBatch,
    acceptsType: makeTypeFilter(opts.config.eventTypes),
    signed: sources?.signedEvents,
  });
  if (sources) await app.register(sources.routes);
  for (const plugin of opts.plugins ?? []) await app.register(plugin);
  return app;
}
