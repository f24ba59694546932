// Bounds on the shape of a JSON body: a body nested 10,000 levels deep parses fine but
// overflows the stack of whatever walks it next (JSON.stringify on publish), and a million
// keys cost a Pi seconds. The check is one iterative pass over the parsed value.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

export const JSON_LIMITS = { depth: 32, keys: 10_000 } as const;

/** Why a parsed body is over a limit, or undefined (V8's JSON.parse is iterative, so a deep body parses; walking it is what would overflow). */
export function valueShapeProblem(value: unknown, limits: { depth: number; keys: number } = JSON_LIMITS): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  let keys = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object' || Buffer.isBuffer(node)) continue;
    if (depth > limits.depth) return `JSON nested deeper than ${limits.depth} levels (the limit)`;
    const children = Array.isArray(node) ? node : Object.values(node);
    if (!Array.isArray(node) && (keys += children.length) > limits.keys) return `JSON with more than ${limits.keys} keys (the limit)`;
    for (const child of children) stack.push([child, depth + 1]);
  }
  return undefined;
}

/**
 * Every parsed body of the app is checked before validation, whichever parser read it (the
 * default one, or a signed-delivery parser a route group installs); raw webhook bodies are
 * checked where they are parsed (see PayloadSchema).
 */
export function guardJsonShape(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    const problem = valueShapeProblem(request.body);
    done(problem ? new HttpError('bad_json', problem) : undefined);
  });
}
