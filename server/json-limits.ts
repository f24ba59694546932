// Bounds on the shape of a JSON body, checked on the text before it is parsed: a body
// nested 10,000 levels deep parses fine but overflows the stack of whatever walks it next
// (JSON.stringify on publish), and a million keys cost a Pi seconds. The scan is one pass,
// iterative, and knows strings, so braces inside them do not count.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

export const JSON_LIMITS = { depth: 32, keys: 10_000 } as const;

/** Why the text is over a limit, or undefined. */
export function jsonShapeProblem(text: string, limits: { depth: number; keys: number } = JSON_LIMITS): string | undefined {
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limits.depth) return `JSON nested deeper than ${limits.depth} levels (the limit)`;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x3a && ++keys > limits.keys) return `JSON with more than ${limits.keys} keys (the limit)`;
  }
  return undefined;
}

/** Every JSON body of the app passes the shape check before fastify's own (prototype-safe) parser. */
export function guardJsonShape(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const problem = jsonShapeProblem(body as string);
    if (problem) return done(new HttpError('bad_json', problem), undefined);
    parse(request, body as string, done);
  });
}
