// The webhook sources as one route group: each enabled source registers its own plugin
// (its own raw-body parser, its verification, its mapping), and they share the delivery
// log that keeps redeliveries from being published twice.
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { SourcesConfig } from '../../shared/config/schema.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
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
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger.child({ part: 'sources' });
  const routes: Record<string, [boolean, (ctx: SourceContext) => FastifyPluginAsync]> = {
    stripe: [config.stripe.enabled, (ctx) => stripeRoutes(ctx, config.stripe)],
    github: [config.github.enabled, (ctx) => githubRoutes(ctx, config.github)],
    gitlab: [config.gitlab.enabled, (ctx) => gitlabRoutes(ctx, config.gitlab)],
    coder: [config.coder.enabled, (ctx) => coderRoutes(ctx, config.coder)],
    airbrake: [config.airbrake.enabled, (ctx) => airbrakeRoutes(ctx, config.airbrake)],
    activecollab: [config.activecollab.enabled, (ctx) => activeCollabRoutes(ctx, config.activecollab)],
    calls: [config.calls.enabled, (ctx) => callsRoutes(ctx, config.calls)],
    beacon: [config.beacon.enabled, (ctx) => beaconRoutes(ctx, config.beacon)],
  };
  const on = Object.entries(routes).filter(([, [enabled]]) => enabled);
  const enabled = on.map(([name]) => name);
  if (config.standardWebhooks.enabled) enabled.push('standardWebhooks');

  // With every source off there is nothing to remember: no file in the data folder.
  const persist = config.dedup.persist && enabled.length > 0;
  const deliveries = new DeliveryLog({
    ttlMs: config.dedup.ttlHours * 3600_000,
    maxEntries: config.dedup.maxEntries,
    clock,
    logger,
    ...(persist ? { file: join(opts.dataDir, DELIVERY_LOG_FILE) } : {}),
  });
  await deliveries.open();
  const ctx: SourceContext = { publisher: opts.publisher, deliveries, clock, logger };
  if (enabled.length > 0) logger.info({ sources: enabled }, 'webhook sources enabled');

  return {
    routes: async (app) => {
      for (const [, [, make]] of on) await app.register(make(ctx));
    },
    signedEvents: config.standardWebhooks.enabled ? signedEvents(ctx, config.standardWebhooks) : undefined,
    enabled,
    close: () => deliveries.close(),
  };
}
