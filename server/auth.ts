// Bearer-token check for the event API, in constant time per token.
import type { FastifyRequest } from 'fastify';
import { secretEquals } from '../shared/secrets.js';
import { HttpError } from './errors.js';

export interface ApiToken {
  name: string;
  token: string;
}

/** Returns the name of the token the request carries, or throws 401. */
export function authenticateBearer(request: FastifyRequest, tokens: readonly ApiToken[]): string {
  const header = request.headers.authorization;
  if (!header) throw unauthorized('missing Authorization header (expected "Bearer <token>")');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized('Authorization header must be "Bearer <token>"');
  const given = match[1]!;
  let found: string | undefined;
  // Check every token so the time taken does not tell which one nearly matched.
  for (const t of tokens) if (secretEquals(given, t.token) && found === undefined) found = t.name;
  if (found === undefined) throw unauthorized('token not accepted');
  return found;
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer' });
}
