// This machine: the data folder, the token file, and the ports bellhop listens on (free,
// or held by a running bellhop, or taken by some other program).
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Config } from '../../shared/config/schema.js';
import { TOKEN_FILE } from '../../server/api-token.js';
import { findInstance, type InstanceKind } from '../instance-file.js';
import type { DoctorResult, DoctorSection } from './check.js';

export const localSection: DoctorSection = {
  name: 'this machine',
  applies: () => true,
  async run(config: Config): Promise<DoctorResult[]> {
    const results = [dataFolder(config.dataDir)];
    if (config.server.tokens.length === 0) results.push(tokenFile(config.dataDir));
    results.push(await port(config, 'server', config.server.host, config.server.port, 'BELLHOP_HTTP_PORT (server.port)'));
    // With mqtt.url the team runs its own broker; the embedded one never listens.
    if (!config.mqtt.url) results.push(await port(config, 'broker', config.broker.host, config.broker.port, 'BELLHOP_MQTT_PORT (broker.port), or mqtt.url for a broker of your own'));
    return results;
  },
};

function dataFolder(dir: string): DoctorResult {
  // A folder not made yet is fine when its parent lets us make it.
  const existing = existsSync(dir) ? dir : dirname(dir);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    const owner = existsSync(existing) ? statSync(existing).uid : undefined;
    return { ok: false, message: `data folder ${dir}: not writable by this user${owner !== undefined ? ` (owned by uid ${owner})` : ''}: sudo chown -R "$(id -un)" '${existing}', or set BELLHOP_DATA_DIR` };
  }
  const holders = (['server', 'broker'] as const).map((kind) => findInstance(dir, kind)).filter((i) => i !== undefined);
  const held = holders.length > 0 ? `; in use by a running bellhop (pid ${[...new Set(holders.map((h) => h.pid))].join(', ')})` : '';
  return { ok: true, message: `data folder ${dir}: writable${held}` };
}

function tokenFile(dir: string): DoctorResult {
  const file = join(dir, TOKEN_FILE);
  if (!existsSync(file)) return { ok: true, warning: true, message: `API token ${file}: not made yet (the server makes it at its first start)` };
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 16) return { ok: false, message: `API token ${file}: too short (${token.length} characters); delete it and the server makes a new one` };
  } catch (err) {
    return { ok: false, message: `API token ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)}); run as the service's user` };
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) return { ok: true, warning: true, message: `API token ${file}: readable by other users (mode ${mode.toString(8)}): chmod 600 '${file}'` };
  return { ok: true, message: `API token ${file}: present, only for its owner` };
}

async function port(config: Config, kind: InstanceKind, host: string, wanted: number, setting: string): Promise<DoctorResult> {
  const running = findInstance(config.dataDir, kind);
  const what = kind === 'server' ? 'HTTP port' : 'MQTT port';
  if (running) return { ok: true, message: `${what}: a running bellhop (pid ${running.pid}) listens at ${running.url}` };
  if (wanted === 0) return { ok: true, message: `${what}: 0 (a free one is picked at each start)` };
  const free = await canListen(host, wanted);
  if (free === true) return { ok: true, message: `${what} ${host}:${wanted}: free` };
  return { ok: false, message: `${what} ${host}:${wanted}: ${free}; choose another with ${setting}` };
}

function canListen(host: string, port: number): Promise<true | string> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve('in use by another program');
      else if (err.code === 'EACCES') resolve('below 1024, needs root');
      else resolve(`cannot listen (${err.code ?? err.message})`);
    });
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
