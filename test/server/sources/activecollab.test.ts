import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, sourceWorld, type SourceWorld } from './world.js';

const SECRET = 'AOHdas0dh0qhed2d-angie';

describe('Active Collab source', () => {
  let world: SourceWorld;
  const post = (body: string, secret: string | null = SECRET) =>
    world.post('/v1/sources/activecollab', body, secret === null ? {} : { 'x-angie-webhooksecret': secret });

  beforeAll(async () => {
    world = await sourceWorld({
      activecollab: {
        enabled: true,
        secrets: [SECRET],
        // The team only wants to hear about finished and reopened work.
        kinds: ['TaskCompleted', 'TaskReopened'],
        baseUrl: 'https://app.activecollab.com/123456',
        projects: { '2': 'website' },
      },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('publishes a completed task as task.completed, linked and in the configured project', async () => {
    const res = await post(fixture('activecollab/TaskCompleted.json'));
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([
      {
        type: 'task.completed',
        source: 'activecollab',
        project: 'website',
        subject: 'Send the invoice to ACME',
        time: new Date(1724836400 * 1000).toISOString(),
        data: {
          taskId: 288,
          taskNumber: 33,
          name: 'Send the invoice to ACME',
          completedById: 18,
          url: 'https://app.activecollab.com/123456/projects/2/tasks/288',
          links: [{ label: 'Open task', url: 'https://app.activecollab.com/123456/projects/2/tasks/288' }],
        },
      },
    ]);
  });

  it('publishes a reopened task as task.reopened', async () => {
    expect((await post(fixture('activecollab/TaskReopened.json'))).status).toBe(202);
    expect(await world.drain()).toMatchObject([{ type: 'task.reopened', data: { taskId: 288 } }]);
  });

  it('ignores the kinds the config filters out, edits and comments, with 200 "ignored"', async () => {
    for (const name of ['TaskCreated', 'TaskUpdated', 'CommentCreated']) {
      const res = await post(fixture(`activecollab/${name}.json`));
      expect(res.status, name).toBe(200);
      expect(res.json.status, name).toBe('ignored');
    }
    expect((await post(fixture('activecollab/TaskCreated.json'))).json.reason).toMatch(/filtered out by sources.activecollab.kinds/);
    expect(await world.drain()).toEqual([]);
  });

  it('refuses a wrong or missing X-Angie-WebhookSecret with 401 and publishes nothing', async () => {
    const body = fixture('activecollab/TaskReopened.json');
    expect((await post(body, 'not-the-secret')).status).toBe(401);
    const missing = await post(body, null);
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({ error: 'unauthorized', message: 'missing X-Angie-WebhookSecret header' });
    expect(await world.drain()).toEqual([]);
  });

  it('answers a malformed body with 400', async () => {
    expect((await post('payload=1')).status).toBe(400);
    expect((await post(JSON.stringify({ type: 'TaskCompleted', payload: { class: 'Task' } }))).json.error).toBe('invalid_payload');
    expect(await world.drain()).toEqual([]);
  });

  it('publishes a repeated delivery of the same task event once', async () => {
    const body = JSON.stringify({ ...JSON.parse(fixture('activecollab/TaskCompleted.json')), timestamp: 1724900000 });
    expect((await post(body)).status).toBe(202);
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.json.status).toBe('duplicate');
    expect(await world.drain()).toHaveLength(1);
  });
});
