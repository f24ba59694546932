// `bellhop emit`: sends one event to a running server (for cron jobs and scripts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../shared/config/schema.js';
import { TOKEN_FILE } from '../server/api-token.js';

export interface EmitOptions {
  url?: string;
  token?: string;
  data?: string;
  severity?: string;
  project?: string;
  subject?: string;
  id?: string;
}

export function defaultServerUrl(config: Config): string {
  const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
  return `http://${host}:${config.server.port}`;
}

export function findToken(config: Config, given: string | undefined): string | undefined {
  if (given) return given;
  if (config.server.tokens[0]) return config.server.tokens[0].token;
  const file = join(config.dataDir, TOKEN_FILE);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export async function emit(type: string, opts: EmitOptions, config: Config): Promise<string[]> {
  const token = findToken(config, opts.token);
  if (!token) throw new Error('no API token: pass --token, set BELLHOP_API_TOKEN, or run next to the server\'s data folder');
  let data: unknown;
  if (opts.data !== undefined) {
    try {
      data = JSON.parse(opts.data);
    } catch {
      throw new Error('--data: not valid JSON');
    }
  }
  const body = Object.fromEntries(
    Object.entries({ type, data, severity: opts.severity, project: opts.project, subject: opts.subject, id: opts.id }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  const url = `${(opts.url ?? defaultServerUrl(config)).replace(/\/$/, '')}/v1/events`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`cannot reach ${url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  const text = await res.text();
  if (res.status !== 202) throw new Error(`server answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { ids: string[] }).ids;
}
