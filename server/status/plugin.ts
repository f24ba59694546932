// The status page as one route group for the server part: JSON endpoints, the live
// stream and the page's files.
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../../shared/logger.js';
import type { ApiToken } from '../auth.js';
import type { StatusPart } from './part.js';
import { statusRoutes } from './routes.js';
import { statusActions } from './actions.js';
import { statusStream } from './stream.js';
import { statusPage } from './page.js';

export interface StatusPluginOptions {
  status: StatusPart;
  tokens: readonly ApiToken[];
  logger: Logger;
  /** Where the page's files are (tests); default: found next to the module. */
  pageDir?: string;
}

export function statusPlugin(opts: StatusPluginOptions): FastifyPluginAsync {
  return async (app) => {
    await app.register(statusRoutes, { status: opts.status, tokens: opts.tokens });
    await app.register(statusActions, { status: opts.status, tokens: opts.tokens });
    await app.register(statusStream, { status: opts.status, tokens: opts.tokens });
    await app.register(statusPage, { logger: opts.logger, dir: opts.pageDir });
  };
}
