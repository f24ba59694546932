// Bearer-token check for the event API, in constant time per token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/** write: everything; read: only what shows (the status page and its API), never what rings. */
export type TokenScope = 'read' | 'write';

export interface ApiToken {
  name: string;
  token: string;
  /** Absent means write, as for every token before scopes existed. */
  scope?: TokenScope;
}

interface Known {
  name: string;
  scope: TokenScope;
}

/** Tokens with their digests computed once, so a request costs one hash, not two per token. */
export class TokenSet {
  #tokens: Array<Known & { digest: Buffer }>;

  constructor(tokens: readonly ApiToken[]) {
    this.#tokens = tokens.map((t) => ({ name: t.name, scope: t.scope ?? 'write', digest: sha256(t.token) }));
  }

  /** The matching token, or undefined. Checks every token so timing tells nothing. */
  match(given: string): Known | undefined {
    const digest = sha256(given);
    let found: Known | undefined;
    for (const t of this.#tokens) if (timingSafeEqual(digest, t.digest) && found === undefined) found = { name: t.name, scope: t.scope };
    return found;
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

const tokenSets = new WeakMap<readonly ApiToken[], TokenSet>();

function asTokenSet(tokens: TokenSet | readonly ApiToken[]): TokenSet {
  if (tokens instanceof TokenSet) return tokens;
  let set = tokenSets.get(tokens);
  if (!set) tokenSets.set(tokens, (set = new TokenSet(tokens)));
  return set;
}

/**
 * Returns the name of the token the request carries, or throws 401 (no or unknown token)
 * or 403 (a read-only token where `need` is write).
 */
export function authenticateBearer(request: FastifyRequest, tokenList: TokenSet | readonly ApiToken[], need: TokenScope = 'write'): string {
  const tokens = asTokenSet(tokenList);
  const header = request.headers.authorization;
  if (!header) throw unauthorized('missing Authorization header (expected "Bearer <token>")');
  const match = BEARER.exec(header);
  if (!match) throw unauthorized('Authorization header must be "Bearer <token>"');
  const found = tokens.match(match[1]!);
  if (found === undefined) throw unauthorized('token not accepted');
  if (need === 'write' && found.scope === 'read') {
    throw new HttpError('read_only_token', `token "${found.name}" may only read (scope: read): posting events, ringing and muting need a token with scope: write`);
  }
  return found.name;
}

function unauthorized(message: string): HttpError {
  return new HttpError('unauthorized', message, { 'www-authenticate': 'Bearer' });
}
