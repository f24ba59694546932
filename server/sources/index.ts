// The webhook sources as one route group: each enabled source registers its own plugin
// (its own raw-body parser, its verification, its mapping), and they share the delivery
// log that keeps redeliveries from being published twice.
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { SourcesConfig } from '../../shared/config/schema.js';
import { sourcesProblem } from '../../shared/config/sections/sources.js';
import { ConfigError } from '../../shared/config/load.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Envelope } from '../../shared/envelope.js';
import type { EventPublisher } from '../publisher.js';
import { DeliveryLog } from './deliveries.js';
import type { SourceContext } from './context.js';
import { stripeRoutes } from './stripe.js';
import { githubRoutes } from './github.js';
import { gitlabRoutes } from './gitlab.js';
import { coderRoutes } from './coder.js';
import { airbrakeRoutes } from './airbrake.js';
import { activeCollabRoutes } from './activecollab.js';
import { callsRoutes } from './calls.js';
import { beaconRoutes } from './beacon.js';
import { signedEvents, type SignedEvents } from './standard-webhooks.js';

export const DELIVERY_LOG_FILE = join('sources', 'deliveries.jsonl');

export interface SourcesOptions {
  config: SourcesConfig;
  dataDir: string;
  publisher: EventPublisher;
  logger: Logger;
  /** Publishes a batch for /v1/events (its own all-settled rule). */
  publishAll: (envelopes: Envelope[]) => Promise<void>;
  clock?: Pick<Clock, 'now'>;
}

export interface Sources {
  routes: FastifyPluginAsync;
  /** Set when Standard Webhooks signing is enabled on /v1/events. */
  signedEvents: SignedEvents | undefined;
  /** The sources that are on, for the startup log. */
  enabled: string[];
  close(): Promise<void>;
}

export async function openSources(opts: SourcesOptions): Promise<Sources> {
  const { config } = opts;
  const problem = sourcesProblem(config);
  if (problem) throw new ConfigError(problem);
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger.child({ part: 'sources' });
  const deliveries = new DeliveryLog({
    ttlMs: config.dedup.ttlHours * 3600_000,
    maxEntries: config.dedup.maxEntries,
    clock,
    logger,
    ...(config.dedup.persist ? { file: join(opts.dataDir, DELIVERY_LOG_FILE) } : {}),
  });
  await deliveries.open();
  const ctx: SourceContext = { publisher: opts.publisher, deliveries, clock, logger };

  const plugins: Array<[string, boolean, () => FastifyPluginAsync]> = [
    ['stripe', config.stripe.enabled, () => stripeRoutes(ctx, config.stripe)],
    ['github', config.github.enabled, () => githubRoutes(ctx, config.github)],
    ['gitlab', config.gitlab.enabled, () => gitlabRoutes(ctx, config.gitlab)],
    ['coder', config.coder.enabled, () => coderRoutes(ctx, config.coder)],
    ['airbrake', config.airbrake.enabled, () => airbrakeRoutes(ctx, config.airbrake)],
    ['activecollab', config.activecollab.enabled, () => activeCollabRoutes(ctx, config.activecollab)],
    ['calls', config.calls.enabled, () => callsRoutes(ctx, config.calls)],
    ['beacon', config.beacon.enabled, () => beaconRoutes(ctx, config.beacon)],
  ];
  const on = plugins.filter(([, enabled]) => enabled);
  const enabled = on.map(([name]) => name);
  if (config.standardWebhooks.enabled) enabled.push('standardWebhooks');
  if (enabled.length > 0) logger.info({ sources: enabled }, 'webhook sources enabled');

  return {
    routes: async (app) => {
      for (const [, , make] of on) await app.register(make());
    },
    signedEvents: config.standardWebhooks.enabled ? signedEvents(ctx, config.standardWebhooks, opts.publishAll) : undefined,
    enabled,
    close: () => deliveries.close(),
  };
}
