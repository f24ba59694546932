import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { ERROR_CODES, HttpError, installErrorHandler } from '../../server/errors.js';
import { Metrics } from '../../shared/metrics.js';

describe('the error catalogue', () => {
  it('is the table in docs/event-api.md, code for code and status for status', () => {
    const doc = readFileSync(new URL('../../docs/event-api.md', import.meta.url), 'utf8');
    const documented = new Map([...doc.matchAll(/`([a-z_]+)` \| (\d{3}) \|/g)].map((m) => [m[1]!, Number(m[2])]));
    expect(Object.fromEntries(documented)).toEqual(ERROR_CODES);
  });

  it('answers each code with its status and counts the refusal under that code', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const app = Fastify();
    installErrorHandler(app, 1, metrics);
    app.get('/rate', async () => {
      throw new HttpError('rate_limited', 'slow down', { 'retry-after': '7' });
    });
    const res = await app.inject({ method: 'GET', url: '/rate' });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json()).toEqual({ error: 'rate_limited', message: 'slow down' });
    const missing = await app.inject({ method: 'GET', url: '/nowhere' });
    expect(missing.statusCode).toBe(404);
    const counted = (await metrics.eventsRejected.get()).values.map((v) => [v.labels.reason, v.value]);
    expect(counted).toEqual(expect.arrayContaining([['rate_limited', 1], ['not_found', 1]]));
    await app.close();
  });
});
