// With no token configured, the default setup makes one and keeps it in the data
// folder (mode 0600), so `npm start` is safe and the printed curl keeps working.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiToken } from './auth.js';

export const TOKEN_FILE = 'api-token';

export function resolveApiTokens(configured: readonly ApiToken[], dataDir: string): { tokens: ApiToken[]; generated: boolean } {
  if (configured.length > 0) return { tokens: [...configured], generated: false };
  const file = join(dataDir, TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { tokens: [{ name: 'local', token }], generated: true };
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { tokens: [{ name: 'local', token }], generated: true };
}
