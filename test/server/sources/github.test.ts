import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, sourceWorld, type SourceWorld } from './world.js';

const SECRET = 'gh-webhook-secret-2f1e0d9c8b7a';

function headers(kind: string, body: string, opts: { secret?: string | null; delivery?: string } = {}): Record<string, string> {
  const h: Record<string, string> = {
    'x-github-event': kind,
    'x-github-delivery': opts.delivery ?? randomUUID(),
    'x-github-hook-id': '496213450',
    'user-agent': 'GitHub-Hookshot/7c3a1e2',
  };
  if (opts.secret !== null) h['x-hub-signature-256'] = `sha256=${createHmac('sha256', opts.secret ?? SECRET).update(body).digest('hex')}`;
  return h;
}

describe('GitHub source', () => {
  let world: SourceWorld;
  const post = (body: string, h: Record<string, string>) => world.post('/v1/sources/github', body, h);

  beforeAll(async () => {
    world = await sourceWorld({ github: { enabled: true, secrets: [SECRET] } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('publishes an opened pull request as pr.opened, in the project named after the repository', async () => {
    const body = fixture('github/pull_request.opened.json');
    const delivery = randomUUID();
    const res = await post(body, headers('pull_request', body, { delivery }));
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([
      {
        id: delivery,
        type: 'pr.opened',
        source: 'github',
        project: 'octo-org/hello-world',
        subject: '#1347',
        data: {
          number: 1347,
          title: 'Add signup notifications',
          author: 'monalisa',
          baseBranch: 'main',
          headBranch: 'signup-bell',
          url: 'https://github.com/octo-org/hello-world/pull/1347',
          links: [{ label: 'View pull request', url: 'https://github.com/octo-org/hello-world/pull/1347' }],
        },
      },
    ]);
  });

  it('maps merged and closed pull requests, finished workflow runs and releases', async () => {
    const cases: Array<[string, string, string, Record<string, unknown>]> = [
      ['pull_request', 'pull_request.closed.merged', 'pr.merged', { mergedBy: 'hubot' }],
      ['pull_request', 'pull_request.closed.unmerged', 'pr.closed', { number: 1350 }],
      ['workflow_run', 'workflow_run.completed.success', 'ci.succeeded', { workflow: 'CI', conclusion: 'success', branch: 'main', runNumber: 812 }],
      ['workflow_run', 'workflow_run.completed.failure', 'ci.failed', { conclusion: 'failure', branch: 'signup-bell' }],
      ['release', 'release.published', 'release.published', { tag: 'v2.4.0', name: 'v2.4.0: the bell', prerelease: false }],
    ];
    for (const [kind, name, type, data] of cases) {
      const body = fixture(`github/${name}.json`);
      expect((await post(body, headers(kind, body))).status, name).toBe(202);
      const got = await world.drain();
      expect(got, name).toMatchObject([{ type, project: 'octo-org/hello-world', data }]);
    }
  });

  it('takes payloads beyond the event API body limit (a big pull request description)', async () => {
    const pr = JSON.parse(fixture('github/pull_request.opened.json')) as { pull_request: { body: string } };
    pr.pull_request.body = 'x'.repeat(400 * 1024);
    const body = JSON.stringify(pr);
    expect((await post(body, headers('pull_request', body))).status).toBe(202);
    expect(await world.drain()).toMatchObject([{ type: 'pr.opened' }]);
  });

  it("also reads GitHub's default form encoding (payload=<json>), verifying the signature over the form", async () => {
    const form = new URLSearchParams({ payload: fixture('github/release.published.json') }).toString();
    const res = await post(form, { ...headers('release', form), 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([{ type: 'release.published', data: { tag: 'v2.4.0' } }]);
  });

  it('gives a failed workflow run the error severity', async () => {
    const body = fixture('github/workflow_run.completed.failure.json');
    await post(body, headers('workflow_run', body));
    expect(await world.drain()).toMatchObject([{ type: 'ci.failed', severity: 'error' }]);
  });

  it('refuses a wrong or missing X-Hub-Signature-256 with 401 and publishes nothing', async () => {
    const body = fixture('github/pull_request.opened.json');
    const wrong = await post(body, headers('pull_request', body, { secret: 'not-the-secret' }));
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: 'unauthorized', message: expect.stringContaining('does not match') });
    const missing = await post(body, headers('pull_request', body, { secret: null }));
    expect(missing.status).toBe(401);
    expect(missing.json.message).toMatch(/missing X-Hub-Signature-256/);
    expect(await world.drain()).toEqual([]);
  });

  it('answers a malformed body with 400', async () => {
    const broken = '{"action": "opened", "pull_request": ';
    const a = await post(broken, headers('pull_request', broken));
    expect(a.status).toBe(400);
    const noPr = JSON.stringify({ action: 'opened', repository: { full_name: 'octo-org/hello-world' } });
    const b = await post(noPr, headers('pull_request', noPr));
    expect(b.status).toBe(400);
    expect(b.json.error).toBe('invalid_payload');
    expect(await world.drain()).toEqual([]);
  });

  it('answers pings, unmapped events and unmapped actions with 200 "ignored"', async () => {
    const cases: Array<[string, string]> = [
      ['ping', 'ping'],
      ['pull_request', 'pull_request.labeled'],
      ['workflow_run', 'workflow_run.in_progress'],
      ['issues', 'pull_request.opened'],
    ];
    for (const [kind, name] of cases) {
      const body = fixture(`github/${name}.json`);
      const res = await post(body, headers(kind, body));
      expect(res.status, name).toBe(200);
      expect(res.json.status, name).toBe('ignored');
    }
    expect(await world.drain()).toEqual([]);
  });

  it('publishes a redelivery of the same X-GitHub-Delivery once', async () => {
    const body = fixture('github/release.published.json');
    const delivery = randomUUID();
    expect((await post(body, headers('release', body, { delivery }))).status).toBe(202);
    const again = await post(body, headers('release', body, { delivery }));
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ status: 'duplicate', id: delivery });
    expect(await world.drain()).toMatchObject([{ id: delivery, type: 'release.published' }]);
  });
});
