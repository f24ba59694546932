// `bellhop emit`: sends one event to a running server (for cron jobs and scripts), through
// the same client apps use, so it retries a 503 or a 504 (publish_unconfirmed) with the
// same event id.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../shared/config/schema.js';
import { SEVERITIES, type Severity } from '../shared/envelope.js';
import { createNotifier, type NotifierOptions } from '../shared/client.js';
import { TOKEN_FILE } from '../server/api-token.js';
import { connectableUrl } from '../shared/url.js';
import { findInstance } from './instance-file.js';

export interface EmitOptions {
  url?: string;
  token?: string;
  signingSecret?: string;
  data?: string;
  severity?: string;
  project?: string;
  subject?: string;
  id?: string;
  retries?: string;
}

/** A server running on this data folder (its real port), else the configured address. */
export function defaultServerUrl(config: Config): string {
  return findInstance(config.dataDir, 'server')?.url ?? connectableUrl('http', config.server.host, config.server.port);
}

export function findToken(config: Config, given: string | undefined): string | undefined {
  if (given) return given;
  if (config.server.tokens[0]) return config.server.tokens[0].token;
  const file = join(config.dataDir, TOKEN_FILE);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/** `client` overrides the client's transport and back-off (for tests). */
export async function emit(type: string, opts: EmitOptions, config: Config, client: Pick<NotifierOptions, 'fetch' | 'retryDelayMs'> = {}): Promise<string[]> {
  const auth: Pick<NotifierOptions, 'token' | 'signingSecret'> = {};
  if (opts.signingSecret) auth.signingSecret = opts.signingSecret;
  else {
    const token = findToken(config, opts.token);
    if (!token) throw new Error("no API token: pass --token, set BELLHOP_API_TOKEN, or run next to the server's data folder");
    auth.token = token;
  }
  let data: Record<string, unknown> | undefined;
  if (opts.data !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(opts.data);
    } catch {
      throw new Error('--data: not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('--data: expected a JSON object');
    data = parsed as Record<string, unknown>;
  }
  if (opts.severity !== undefined && !(SEVERITIES as readonly string[]).includes(opts.severity)) {
    throw new Error(`--severity: expected one of ${SEVERITIES.join(', ')}`);
  }
  const retries = opts.retries === undefined ? 3 : Number(opts.retries);
  if (!Number.isInteger(retries) || retries < 0) throw new Error('--retries: expected a whole number');
  const notifier = createNotifier({
    url: opts.url ?? defaultServerUrl(config),
    ...auth,
    retries,
    ...client,
  });
  const { ids } = await notifier.send({
    type,
    ...(data !== undefined ? { data } : {}),
    ...(opts.severity !== undefined ? { severity: opts.severity as Severity } : {}),
    ...(opts.project !== undefined ? { project: opts.project } : {}),
    ...(opts.subject !== undefined ? { subject: opts.subject } : {}),
    ...(opts.id !== undefined ? { id: opts.id } : {}),
  });
  return ids;
}
