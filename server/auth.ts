// Bearer-token check for the event API, in constant time per token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

export interface ApiToken {
  name: string;
  token: string;
}

/** Tokens with their digests computed once, so a request costs one hash, not two per token. */
export class TokenSet {
  #tokens: Array<{ name: string; digest: Buffer }>;

  constructor(tokens: readonly ApiToken[]) {
    this.#tokens = tokens.map((t) => ({ name: t.name, digest: sha256(t.token) }));
  }

  /** The name of the matching token, or undefined. Checks every token so timing tells nothing. */
  match(given: string): string | undefined {
    const digest = sha256(given);
    let found: string | undefined;
    for (const t of this.#tokens) if (timingSafeEqual(digest, t.digest) && found === undefined) found = t.name;
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

/** Returns the name of the token the request carries, or throws 401. */
export function authenticateBearer(request: FastifyRequest, tokenList: TokenSet | readonly ApiToken[]): string {
  const tokens = asTokenSet(tokenList);
  const header = request.headers.authorization;
  if (!header) throw unauthorized('missing Authorization header (expected "Bearer <token>")');
  const match = BEARER.exec(header);
  if (!match) throw unauthorized('Authorization header must be "Bearer <token>"');
  const name = tokens.match(match[1]!);
  if (name === undefined) throw unauthorized('token not accepted');
  return name;
}

function unauthorized(message: string): HttpError {
  return new HttpError('unauthorized', message, { 'www-authenticate': 'Bearer' });
}
