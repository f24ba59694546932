import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../../helpers/world.js';
import { fixture, sourceWorld, type SourceWorld } from './world.js';

const KEY = '81bbff95d52f8856c770bb39e827f3f6';

describe('Airbrake/Errbit source', () => {
  let world: SourceWorld;
  const logs = captureLogger('debug');
  const notices = (project = '251003', query = `?key=${KEY}`) => `/api/v3/projects/${project}${'/notices'}${query}`;

  beforeAll(async () => {
    world = await sourceWorld({ airbrake: { enabled: true, projects: [{ id: '251003', key: KEY, name: 'shop' }, { id: '7', key: 'another-project-key' }] } }, { logger: logs.logger });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('answers a notice like Airbrake does (201 {id, url}) and publishes error.raised with a fingerprint', async () => {
    const res = await world.post(notices(), fixture('airbrake/notice.json'));
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ id: expect.any(String), url: expect.stringContaining(res.json.id as string) });
    const expectedFingerprint = createHash('sha256')
      .update("ActiveRecord::RecordNotFound\nCouldn't find Order with 'id'=4521\n/PROJECT_ROOT/app/controllers/orders_controller.rb:17:show")
      .digest('hex')
      .slice(0, 32);
    const [e, ...rest] = await world.drain();
    expect(rest).toEqual([]);
    expect(e).toMatchObject({
      id: res.json.id,
      type: 'error.raised',
      source: 'airbrake/251003',
      severity: 'error',
      project: 'shop',
      subject: 'ActiveRecord::RecordNotFound',
      data: {
        errorType: 'ActiveRecord::RecordNotFound',
        message: "Couldn't find Order with 'id'=4521",
        fingerprint: expectedFingerprint,
        topFrame: { file: '/PROJECT_ROOT/app/controllers/orders_controller.rb', line: 17, function: 'show' },
        environment: 'production',
        component: 'orders',
        action: 'show',
        hostname: 'web-2',
        appVersion: '2024.08.27',
        notifier: 'airbrake-ruby',
      },
    });
    expect((e!.data!.backtrace as string[])[0]).toBe('show (/PROJECT_ROOT/app/controllers/orders_controller.rb:17)');
  });

  it('never forwards the notice environment, session or params (they hold secrets)', async () => {
    await world.post(notices(), fixture('airbrake/notice.json'));
    const [e] = await world.drain();
    expect(JSON.stringify(e)).not.toContain('hunter2');
    expect(JSON.stringify(e)).not.toContain('session_id');
  });

  it('gives the same fingerprint to two occurrences of one error and takes severity from the notice', async () => {
    const body = fixture('airbrake/notice-js-warning.json');
    const a = await world.post(notices(), body);
    const b = await world.post(notices(), body);
    expect([a.status, b.status]).toEqual([201, 201]);
    const got = await world.drain();
    expect(got).toHaveLength(2);
    expect(got[0]!.data!.fingerprint).toBe(got[1]!.data!.fingerprint);
    expect(got[0]).toMatchObject({ severity: 'warning', data: { errorType: 'TypeError', topFrame: { function: 'renderTotals', line: 212 } } });
  });

  it('takes the key from the Authorization or X-Airbrake-Token header too', async () => {
    const body = fixture('airbrake/notice.json');
    expect((await world.post(notices('251003', ''), body, { authorization: `Bearer ${KEY}` })).status).toBe(201);
    expect((await world.post(notices('251003', ''), body, { 'x-airbrake-token': KEY })).status).toBe(201);
    expect(await world.drain()).toHaveLength(2);
  });

  it("refuses a wrong key, a missing key, or another project's key with 401, and keeps keys out of the logs", async () => {
    const body = fixture('airbrake/notice.json');
    const wrong = await world.post(notices('251003', '?key=0000ff95d52f8856c770bb39e827f3f6'), body);
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: 'unauthorized', message: 'unknown project id or key' });
    expect((await world.post(notices('251003', ''), body)).status).toBe(401);
    expect((await world.post(notices('7', `?key=${KEY}`), body)).status).toBe(401);
    expect((await world.post(notices('999', `?key=${KEY}`), body)).status).toBe(401);
    expect(await world.drain()).toEqual([]);
    expect(logs.text()).not.toContain(KEY);
  });

  it('answers a malformed notice with 400', async () => {
    expect((await world.post(notices(), '{"errors": [')).status).toBe(400);
    const empty = await world.post(notices(), JSON.stringify({ errors: [] }));
    expect(empty.status).toBe(400);
    expect(empty.json.error).toBe('invalid_payload');
    expect(await world.drain()).toEqual([]);
  });

  it('answers notices from ignored environments with 200 "ignored"', async () => {
    const res = await world.post(notices(), fixture('airbrake/notice-development.json'));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ignored', reason: expect.stringContaining('development') });
    expect(await world.drain()).toEqual([]);
  });
});
