import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../../helpers/world.js';
import { fixture, sourceWorld, type SourceWorld } from './world.js';

const TOKEN = 'coder-hook-token-9f8e7d6c5b';

function message(name: string, msgId = randomUUID()): { body: string; msgId: string } {
  const m = JSON.parse(fixture(`coder/${name}.json`)) as Record<string, unknown>;
  m.msg_id = msgId;
  return { body: JSON.stringify(m), msgId };
}

describe('Coder source', () => {
  let world: SourceWorld;
  const logs = captureLogger('debug');
  // Coder sends only Content-Type and X-Message-Id: the token rides in the endpoint URL.
  const post = (body: string, query = `?token=${TOKEN}`, headers: Record<string, string> = {}) =>
    world.post(`/v1/sources/coder${query}`, body, headers);

  beforeAll(async () => {
    world = await sourceWorld({ coder: { enabled: true, tokens: [TOKEN], project: 'dev-envs' } }, { logger: logs.logger });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('publishes a notification for its person, with msg_id as the event id and the actions as links', async () => {
    const body = fixture('coder/workspace-deleted.json');
    const res = await post(body, `?token=${TOKEN}`, { 'x-message-id': '88750cad-77d4-4663-8bc0-f46855f5019b' });
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([
      {
        id: '88750cad-77d4-4663-8bc0-f46855f5019b',
        type: 'notification.sent',
        source: 'coder',
        severity: 'info',
        subject: 'danny@example.com',
        project: 'dev-envs',
        data: {
          title: 'Workspace "my-workspace" deleted',
          body: expect.stringContaining('Your workspace my-workspace was deleted.'),
          bodyMarkdown: expect.stringContaining('**my-workspace**'),
          notification: 'Workspace Deleted',
          user_email: 'danny@example.com',
          userName: 'Danny',
          username: 'danny',
          labels: { name: 'my-workspace', reason: 'initiated by user' },
          links: [
            { label: 'View workspaces', url: 'https://coder.example.com/workspaces' },
            { label: 'View templates', url: 'https://coder.example.com/templates' },
          ],
        },
      },
    ]);
  });

  it('marks a failed build as an error, a deleted workspace (over, nothing to do) as info', async () => {
    const { body, msgId } = message('workspace-build-failed');
    expect((await post(body)).status).toBe(202);
    expect(await world.drain()).toMatchObject([{ id: msgId, severity: 'error', subject: 'sam@example.com' }]);
    const deleted = message('workspace-deleted');
    expect((await post(deleted.body)).status).toBe(202);
    expect(await world.drain()).toMatchObject([{ id: deleted.msgId, severity: 'info' }]);
  });

  it("maps 'User account created' to user.created, one event id for the copies Coder sends each admin", async () => {
    const toDanny = message('user-account-created');
    const toSam = JSON.parse(message('user-account-created').body) as { payload: Record<string, unknown> };
    Object.assign(toSam.payload, { user_email: 'sam@example.com', user_name: 'Sam Rivera', user_username: 'sam' });
    expect((await post(toDanny.body)).status).toBe(202);
    expect((await post(JSON.stringify(toSam))).status).toBe(202);
    const [first, second, ...rest] = await world.drain();
    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      type: 'user.created',
      severity: 'info',
      subject: 'ana',
      data: { account: 'ana', accountName: 'Ana Li', createdBy: 'danny', notification: 'User account created', user_email: 'danny@example.com' },
    });
    expect(first!.id).not.toBe(toDanny.msgId);
    // The bell and the Slack sink drop an id they have handled: one sign-up, one ding.
    expect(second!.id).toBe(first!.id);
  });

  it('also takes the token as a bearer header', async () => {
    const { body, msgId } = message('workspace-deleted');
    expect((await post(body, '', { authorization: `Bearer ${TOKEN}` })).status).toBe(202);
    expect(await world.drain()).toMatchObject([{ id: msgId }]);
  });

  it('refuses a wrong or missing token with 401 and publishes nothing', async () => {
    const { body } = message('workspace-deleted');
    const wrong = await post(body, '?token=coder-hook-token-000000');
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toBe('unauthorized');
    const missing = await post(body, '');
    expect(missing.status).toBe(401);
    expect(missing.json.message).toMatch(/missing token/);
    expect(await world.drain()).toEqual([]);
  });

  it('answers a malformed body with 400, and keeps the URL token out of the logs', async () => {
    const res = await post('{"msg_id": 42}');
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_payload');
    expect((await post('not json')).status).toBe(400);
    expect(await world.drain()).toEqual([]);
    expect(logs.text()).toContain('request refused');
    expect(logs.text()).not.toContain(TOKEN);
  });

  it('answers a message of an unknown major schema version with 200 "ignored"', async () => {
    const m = JSON.parse(fixture('coder/workspace-deleted.json')) as Record<string, unknown>;
    m._version = '2.0';
    m.msg_id = randomUUID();
    const res = await post(JSON.stringify(m));
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('ignored');
    expect(await world.drain()).toEqual([]);
    expect(logs.lines().some((l) => l.msg === 'webhook ignored' && l.level === 20)).toBe(true);
  });

  it("publishes Coder's retry of the same msg_id once", async () => {
    const { body, msgId } = message('workspace-build-failed');
    expect((await post(body)).status).toBe(202);
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ status: 'duplicate', id: msgId });
    expect(await world.drain()).toMatchObject([{ id: msgId }]);
  });
});
