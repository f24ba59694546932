import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifier, NotifierError } from '../../shared/client.js';
import { emit } from '../../cli/emit.js';
import { TEST_TOKEN, testConfig } from '../helpers/world.js';
import { sourceWorld, type SourceWorld } from '../server/sources/world.js';

const SIGNING_SECRET = `whsec_${Buffer.from('cron host signing key').toString('base64')}`;

describe('the bellhop client', () => {
  let world: SourceWorld;

  beforeAll(async () => {
    world = await sourceWorld({ standardWebhooks: { enabled: true, secrets: [{ name: 'cron', secret: SIGNING_SECRET }] } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('sends an event that arrives on MQTT with the id the client gave it', async () => {
    const notifier = createNotifier({ url: world.url, token: TEST_TOKEN, project: 'backups' });
    const result = await notifier.send({ type: 'task.completed', data: { job: 'nightly-backup', files: 1204 } });
    expect(result.ids).toHaveLength(1);
    expect(result.duplicate).toBe(false);
    expect(await world.drain()).toMatchObject([
      { id: result.ids[0], type: 'task.completed', severity: 'info', project: 'backups', source: 'api/test', data: { job: 'nightly-backup', files: 1204 } },
    ]);
  });

  it('gives a task failure the error severity unless the sender says otherwise', async () => {
    const notifier = createNotifier({ url: `${world.url}/v1/events`, token: TEST_TOKEN });
    await notifier.send({ type: 'task.failed', data: { job: 'invoice-run' } });
    await notifier.send({ type: 'task.failed', severity: 'warning', data: { job: 'cache-warmup' } });
    expect((await world.drain()).map((e) => [e.data?.job, e.severity])).toEqual([
      ['invoice-run', 'error'],
      ['cache-warmup', 'warning'],
    ]);
  });

  it('reports a job run with task(): completed with its duration, or failed with the error, which it rethrows', async () => {
    const notifier = createNotifier({ url: world.url, token: TEST_TOKEN });
    expect(await notifier.task('nightly-backup', async () => 42, { host: 'db-1' })).toBe(42);
    await expect(
      notifier.task('invoice-run', () => {
        throw new Error('SMTP refused the connection');
      }),
    ).rejects.toThrow('SMTP refused the connection');
    expect(await world.drain()).toMatchObject([
      { type: 'task.completed', subject: 'nightly-backup', severity: 'info', data: { task: 'nightly-backup', host: 'db-1', durationMs: expect.any(Number) } },
      { type: 'task.failed', subject: 'invoice-run', severity: 'error', data: { task: 'invoice-run', error: 'SMTP refused the connection' } },
    ]);
  });

  it('can sign with a Standard Webhooks secret instead of a token', async () => {
    const notifier = createNotifier({ url: world.url, signingSecret: SIGNING_SECRET });
    const { ids } = await notifier.send({ type: 'deploy.succeeded', data: { version: '2.4.0' } });
    expect(await world.drain()).toMatchObject([{ id: ids[0], type: 'deploy.succeeded', source: 'api/cron' }]);
  });

  it('sends a batch in one request', async () => {
    const notifier = createNotifier({ url: world.url, token: TEST_TOKEN });
    const { ids } = await notifier.sendBatch([{ type: 'user.signup' }, { type: 'user.login' }]);
    expect(ids).toHaveLength(2);
    expect((await world.drain()).map((e) => e.id)).toEqual(ids);
  });

  it('retries a 503 and a network error with the same event id, so the event is published once', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls++;
      if (calls === 1) throw new TypeError('fetch failed', { cause: new Error('ECONNRESET') });
      if (calls === 2) return new Response(JSON.stringify({ error: 'broker_unavailable', message: 'not connected' }), { status: 503 });
      return fetch(input, init);
    };
    const notifier = createNotifier({ url: world.url, token: TEST_TOKEN, fetch: flaky, retryDelayMs: 1 });
    const { ids } = await notifier.send({ type: 'user.signup', id: 'signup-4521' });
    expect(calls).toBe(3);
    expect(ids).toEqual(['signup-4521']);
    expect(await world.drain()).toMatchObject([{ id: 'signup-4521' }]);
  });

  it('retries a 504 publish_unconfirmed with the same event ids, after the Retry-After, so subscribers see one id', async () => {
    let calls = 0;
    const bodies: string[] = [];
    const unconfirmed: typeof fetch = async (input, init) => {
      calls++;
      bodies.push(String(init?.body));
      if (calls === 1) {
        const body = { error: 'publish_unconfirmed', message: 'the event may have been published: retry with the same event id' };
        return new Response(JSON.stringify(body), { status: 504, headers: { 'retry-after': '0.01' } });
      }
      return fetch(input, init);
    };
    const notifier = createNotifier({ url: world.url, token: TEST_TOKEN, fetch: unconfirmed, retryDelayMs: 60_000 });
    const { ids } = await notifier.sendBatch([{ type: 'user.signup' }, { type: 'user.login' }]);
    expect(calls).toBe(2);
    expect(bodies[1]).toBe(bodies[0]);
    expect((await world.drain()).map((e) => e.id)).toEqual(ids);
  });

  it('gives up on repeated 504s with an error that says the event may have been published', async () => {
    const always504: typeof fetch = async () =>
      new Response(JSON.stringify({ error: 'publish_unconfirmed', message: 'the event may have been published' }), { status: 504 });
    const notifier = createNotifier({ url: world.url, token: TEST_TOKEN, fetch: always504, retries: 1, retryDelayMs: 1 });
    await expect(notifier.send({ type: 'user.signup' })).rejects.toMatchObject({ status: 504, code: 'publish_unconfirmed', message: /may have been published/ });
  });

  it('does not retry a refused event, and says why', async () => {
    let calls = 0;
    const counting: typeof fetch = async (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const notifier = createNotifier({ url: world.url, token: TEST_TOKEN, fetch: counting, retryDelayMs: 1 });
    const err = await notifier.send({ type: 'user.sigup' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifierError);
    expect(err).toMatchObject({ status: 400, code: 'unknown_type', message: expect.stringMatching(/^server answered 400: .*unknown_type/) });
    expect(calls).toBe(1);
    const badToken = createNotifier({ url: world.url, token: 'wrong-token-0000000000' });
    await expect(badToken.send({ type: 'user.signup' })).rejects.toMatchObject({ status: 401 });
  });

  it('gives up after its retries with the last error', async () => {
    const down: typeof fetch = async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    };
    const notifier = createNotifier({ url: 'http://127.0.0.1:9', token: TEST_TOKEN, fetch: down, retries: 2, retryDelayMs: 1 });
    await expect(notifier.send({ type: 'user.signup' })).rejects.toThrow(/cannot reach .*ECONNREFUSED/);
  });

  it('needs a token or a signing secret', () => {
    expect(() => createNotifier({ url: world.url })).toThrow(NotifierError);
  });
});

describe('bellhop emit, through the client', () => {
  let world: SourceWorld;

  beforeAll(async () => {
    world = await sourceWorld({});
  });
  afterAll(async () => {
    await world?.close();
  });

  it('sends the event with its data and options, and returns its id', async () => {
    const config = testConfig();
    const ids = await emit('task.failed', { url: world.url, data: '{"job":"nightly-backup","exitCode":2}', project: 'ops', subject: 'nightly-backup' }, config);
    expect(await world.drain()).toMatchObject([
      { id: ids[0], type: 'task.failed', severity: 'error', project: 'ops', subject: 'nightly-backup', data: { job: 'nightly-backup', exitCode: 2 } },
    ]);
  });

  it('retries a 503 with the same id', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => (++calls === 1 ? new Response('{}', { status: 503 }) : fetch(input, init));
    const ids = await emit('user.signup', { url: world.url, id: 'cron-signup-1', retries: '2' }, testConfig(), { fetch: flaky, retryDelayMs: 1 });
    expect(ids).toEqual(['cron-signup-1']);
    expect(calls).toBe(2);
    expect(await world.drain()).toMatchObject([{ id: 'cron-signup-1', type: 'user.signup' }]);
  });

  it('retries a 504 publish_unconfirmed with the same id', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) =>
      ++calls === 1 ? new Response(JSON.stringify({ error: 'publish_unconfirmed', message: 'may have been published' }), { status: 504 }) : fetch(input, init);
    const ids = await emit('user.signup', { url: world.url, id: 'cron-signup-2', retries: '2' }, testConfig(), { fetch: flaky, retryDelayMs: 1 });
    expect(ids).toEqual(['cron-signup-2']);
    expect(calls).toBe(2);
    expect(await world.drain()).toMatchObject([{ id: 'cron-signup-2', type: 'user.signup' }]);
  });

  it('refuses bad options before sending anything', async () => {
    const config = testConfig();
    await expect(emit('user.signup', { url: world.url, data: '{oops' }, config)).rejects.toThrow('--data: not valid JSON');
    await expect(emit('user.signup', { url: world.url, data: '[1]' }, config)).rejects.toThrow('--data: expected a JSON object');
    await expect(emit('user.signup', { url: world.url, severity: 'loud' }, config)).rejects.toThrow(/--severity/);
  });
});
