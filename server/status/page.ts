// Serves the status page: a few plain files (no framework, no build step, nothing from
// a CDN, since the Pi and the office network may be offline). The files hold no data;
// the page asks for the API token and fetches everything from the JSON endpoints.
import { HttpError } from '../errors.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Logger } from '../../shared/logger.js';

export const PAGE_PATH = '/status/';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * Where the page's files are: next to this module when run from the sources, and in
 * the source tree when run from dist/ (tsc copies no assets).
 */
export function findPageDir(): string | undefined {
  const candidates = ['./public/', '../../../server/status/public/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}index.html`));
}

export interface StatusPageOptions {
  logger: Logger;
  dir?: string | undefined;
}

export const statusPage: FastifyPluginAsync<StatusPageOptions> = async (app, opts) => {
  const dir = opts.dir ?? findPageDir();
  // Read once: a handful of small files, and a fixed list means no path from a URL ever reaches the disk.
  const files = new Map<string, { type: string; body: Buffer }>();
  if (dir) {
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (type) files.set(name, { type, body: readFileSync(`${dir}${name}`) });
    }
  } else {
    opts.logger.warn({ part: 'status' }, 'status page files not found; only its JSON endpoints are served');
  }

  // The server's root is where people type first; with the page off, / stays a 404 like any unknown path.
  app.get('/', async (_request, reply) => reply.redirect(PAGE_PATH));
  app.get('/status', async (_request, reply) => reply.redirect(PAGE_PATH));
  app.get(PAGE_PATH, async (_request, reply) => serve(reply, 'index.html'));
  app.get<{ Params: { file: string } }>(`${PAGE_PATH}:file`, async (request, reply) => serve(reply, request.params.file));

  function serve(reply: FastifyReply, name: string): FastifyReply {
    const file = files.get(name);
    if (!file) throw new HttpError('not_found', `no page file ${name}`);
    return reply.headers(HEADERS).type(file.type).send(file.body);
  }
};
