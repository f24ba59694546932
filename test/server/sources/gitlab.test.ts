import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, sourceWorld, type SourceWorld } from './world.js';

const TOKEN = 'gitlab-secret-token-7a6b5c4d';
const SIGNING_TOKEN = `whsec_${Buffer.from('gitlab signing key, 32 bytes long!').toString('base64')}`;

function gitlabHeaders(event: string, opts: { token?: string | null; uuid?: string } = {}): Record<string, string> {
  const h: Record<string, string> = {
    'x-gitlab-event': event,
    'x-gitlab-instance': 'https://gitlab.example.com',
    'x-gitlab-webhook-uuid': '4d1e3c52-7f6e-4b1d-9a3c-0f9e8d7c6b5a',
    'x-gitlab-event-uuid': opts.uuid ?? randomUUID(),
    'user-agent': 'GitLab/17.11.0',
  };
  if (opts.token !== null) h['x-gitlab-token'] = opts.token ?? TOKEN;
  return h;
}

/** What GitLab adds when a signing token is set: Standard Webhooks headers over the raw body. */
function signed(body: string, opts: { id?: string; t?: number; key?: string } = {}): Record<string, string> {
  const id = opts.id ?? randomUUID();
  const t = opts.t ?? Math.floor(Date.now() / 1000);
  const key = Buffer.from((opts.key ?? SIGNING_TOKEN).slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${t}.${body}`).digest('base64');
  return { 'webhook-id': id, 'idempotency-key': id, 'webhook-timestamp': String(t), 'webhook-signature': `v1,${signature}` };
}

describe('GitLab source with a secret token', () => {
  let world: SourceWorld;
  const post = (body: string, h: Record<string, string>) => world.post('/v1/sources/gitlab', body, h);

  beforeAll(async () => {
    world = await sourceWorld({ gitlab: { enabled: true, tokens: [TOKEN] } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('publishes an opened merge request as pr.opened in the project named by its path', async () => {
    const body = fixture('gitlab/merge_request.open.json');
    const uuid = randomUUID();
    const res = await post(body, gitlabHeaders('Merge Request Hook', { uuid }));
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([
      {
        id: uuid,
        type: 'pr.opened',
        source: 'gitlab',
        project: 'acme/shop/storefront',
        subject: '!42',
        data: {
          number: 42,
          title: 'Ring the bell on checkout',
          sourceBranch: 'feature/checkout-bell',
          targetBranch: 'main',
          user: 'root',
          links: [{ label: 'View merge request', url: 'https://gitlab.example.com/acme/shop/storefront/-/merge_requests/42' }],
        },
      },
    ]);
  });

  it('maps merged and closed merge requests and succeeded and failed pipelines', async () => {
    const cases: Array<[string, string, string, Record<string, unknown>]> = [
      ['Merge Request Hook', 'merge_request.merge', 'pr.merged', { number: 42 }],
      ['Merge Request Hook', 'merge_request.close', 'pr.closed', { number: 42 }],
      ['Pipeline Hook', 'pipeline.success', 'ci.succeeded', { pipeline: 31, ref: 'main', durationSeconds: 385 }],
      ['Pipeline Hook', 'pipeline.failed', 'ci.failed', { pipeline: 32, ref: 'feature/checkout-bell', url: 'https://gitlab.example.com/acme/shop/storefront/-/pipelines/32' }],
    ];
    for (const [event, name, type, data] of cases) {
      expect((await post(fixture(`gitlab/${name}.json`), gitlabHeaders(event))).status, name).toBe(202);
      expect(await world.drain(), name).toMatchObject([{ type, project: 'acme/shop/storefront', data }]);
    }
  });

  it('carries the jobs that failed a pipeline, not the allowed failures, with their links', async () => {
    expect((await post(fixture('gitlab/pipeline.failed.jobs.json'), gitlabHeaders('Pipeline Hook'))).status).toBe(202);
    expect(await world.drain()).toMatchObject([
      {
        type: 'ci.failed',
        severity: 'error',
        data: {
          pipeline: 33,
          ref: 'main',
          user: 'jdoe',
          trigger: 'push',
          commitTitle: 'Ring the bell on checkout',
          failedJobs: [{ id: 389, name: 'rspec', stage: 'test', failureReason: 'script_failure', url: 'https://gitlab.example.com/acme/shop/storefront/-/jobs/389' }],
        },
      },
    ]);
  });

  it('maps by the body\'s object_kind, whatever X-Gitlab-Event says', async () => {
    expect((await post(fixture('gitlab/pipeline.failed.json'), gitlabHeaders('Merge Request Hook'))).status).toBe(202);
    expect(await world.drain()).toMatchObject([{ type: 'ci.failed' }]);
  });

  it('refuses a wrong or missing X-Gitlab-Token with 401 and publishes nothing', async () => {
    const body = fixture('gitlab/merge_request.open.json');
    const wrong = await post(body, gitlabHeaders('Merge Request Hook', { token: 'gitlab-secret-token-7a6b5c4X' }));
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: 'unauthorized', message: 'X-Gitlab-Token header not accepted' });
    const missing = await post(body, gitlabHeaders('Merge Request Hook', { token: null }));
    expect(missing.status).toBe(401);
    expect(missing.json.message).toMatch(/missing X-Gitlab-Token/);
    expect(await world.drain()).toEqual([]);
  });

  it('answers a malformed body with 400', async () => {
    const a = await post('<xml/>', gitlabHeaders('Merge Request Hook'));
    expect(a.status).toBe(400);
    const b = await post(JSON.stringify({ object_kind: 'merge_request', object_attributes: { action: 'open' } }), gitlabHeaders('Merge Request Hook'));
    expect(b.status).toBe(400);
    expect(b.json.error).toBe('invalid_payload');
    expect(await world.drain()).toEqual([]);
  });

  it('answers pushes, merge request updates and running pipelines with 200 "ignored"', async () => {
    for (const [event, name] of [
      ['Push Hook', 'push'],
      ['Merge Request Hook', 'merge_request.update'],
      ['Pipeline Hook', 'pipeline.running'],
    ] as const) {
      const res = await post(fixture(`gitlab/${name}.json`), gitlabHeaders(event));
      expect(res.status, name).toBe(200);
      expect(res.json.status, name).toBe('ignored');
    }
    expect(await world.drain()).toEqual([]);
  });

  it('publishes a retried delivery (same Idempotency-Key) once', async () => {
    const body = fixture('gitlab/pipeline.failed.json');
    const key = randomUUID();
    const h = { ...gitlabHeaders('Pipeline Hook'), 'idempotency-key': key };
    expect((await post(body, h)).status).toBe(202);
    const again = await post(body, { ...h, 'x-gitlab-event-uuid': randomUUID() });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ status: 'duplicate', id: key });
    expect(await world.drain()).toMatchObject([{ id: key, type: 'ci.failed' }]);
  });
});

describe('GitLab source with a signing token (Standard Webhooks headers)', () => {
  let world: SourceWorld;
  const post = (body: string, h: Record<string, string>) => world.post('/v1/sources/gitlab', body, h);

  beforeAll(async () => {
    world = await sourceWorld({ gitlab: { enabled: true, tokens: [TOKEN], signingTokens: [SIGNING_TOKEN] } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('accepts a delivery signed over id, timestamp and body, deduplicating on webhook-id', async () => {
    const body = fixture('gitlab/pipeline.success.json');
    const h = { ...gitlabHeaders('Pipeline Hook'), ...signed(body) };
    const res = await post(body, h);
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([{ id: h['webhook-id'], type: 'ci.succeeded' }]);
    expect((await post(body, h)).status).toBe(200);
    expect(await world.drain()).toEqual([]);
  });

  it('refuses a wrong signature, a missing one, and a stale timestamp with 401', async () => {
    const body = fixture('gitlab/pipeline.success.json');
    const other = `whsec_${Buffer.from('another key').toString('base64')}`;
    const wrong = await post(body, { ...gitlabHeaders('Pipeline Hook'), ...signed(body, { key: other }) });
    expect(wrong.status).toBe(401);
    expect(wrong.json.message).toMatch(/webhook-signature does not match/);
    const missing = await post(body, gitlabHeaders('Pipeline Hook'));
    expect(missing.status).toBe(401);
    expect(missing.json.message).toMatch(/missing webhook-id/);
    const stale = await post(body, { ...gitlabHeaders('Pipeline Hook'), ...signed(body, { t: Math.floor(Date.now() / 1000) - 3600 }) });
    expect(stale.status).toBe(401);
    expect(stale.json.message).toMatch(/webhook-timestamp/);
    const tampered = await post(body.replace('"success"', '"failed"'), { ...gitlabHeaders('Pipeline Hook'), ...signed(body) });
    expect(tampered.status).toBe(401);
    expect(await world.drain()).toEqual([]);
  });

  it('still checks X-Gitlab-Token on a signed delivery', async () => {
    const body = fixture('gitlab/pipeline.success.json');
    const res = await post(body, { ...gitlabHeaders('Pipeline Hook', { token: 'wrong-token-000000' }), ...signed(body) });
    expect(res.status).toBe(401);
    expect(await world.drain()).toEqual([]);
  });
});
