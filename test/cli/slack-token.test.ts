// `bellhop start` as installed, with a Slack token that Slack has revoked: the bell and the
// server go on, the refusal is said once with its fix, /readyz and the status page report
// it, and every accepted event waits in the outbox.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/world.js';
import { ALL_SCOPES, APP_TOKEN, BOT_TOKEN, FakeSlack } from '../fake-slack/server.js';

const running: CliProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** `bellhop start` on free ports and the simulated bell, in `dataDir`, with the Slack settings given. */
function start(dataDir: string, slack: Record<string, string>, args: string[] = []): CliProcess {
  const p = runCli(['start', ...args], { BELLHOP_DATA_DIR: dataDir, BELLHOP_HTTP_PORT: '0', BELLHOP_MQTT_PORT: '0', BELLHOP_GPIO_DRIVER: 'sim', ...slack });
  running.push(p);
  return p;
}

describe('bellhop start with a revoked Slack token', () => {
  it('reports the refusal on /readyz and the status page, once in the output, and keeps the events', async () => {
    const fake = new FakeSlack();
    await fake.start();
    cleanups.push(() => fake.stop());
    // Every call with the bot token fails as Slack answers a revoked one.
    fake.outage({ error: 'token_revoked' });
    const data = tempDir();
    const p = start(data.path, {
      SLACK_BOT_TOKEN: 'xoxb-revoked-0000',
      SLACK_API_URL: fake.apiUrl,
      BELLHOP_SLACK_CHANNEL: '#bellhop',
    });
    const [, url, file] = await p.waitForOutput(/curl -X POST (\S+)\/v1\/events -H "Authorization: Bearer \$\(cat '(.+?)'\)"/);
    const token = readFileSync(file!, 'utf8').trim();
    const auth = { authorization: `Bearer ${token}` };
    await p.waitForOutput(/slack {3}Slack refused the bot token \(token_revoked\): set a working bot token \(SLACK_BOT_TOKEN/);

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: Record<string, boolean>; problems?: Record<string, string> };
    expect(body.checks).toMatchObject({ mqtt: true, slack: false });
    expect(body.problems?.slack).toMatch(/^Slack refused the bot token \(token_revoked\): set a working bot token/);

    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'user.signup', data: { email: `u${i}@example.com` } }) });
      expect(res.status).toBe(202);
    }
    // The bell still rings: Slack's refusal is the Slack part's business only.
    await waitFor(() => (p.stdout().match(/rang 1x for user\.signup/g)?.length ?? 0) === 3, { what: 'three rings' });

    const devices = (await (await fetch(`${url}/v1/devices`, { headers: auth })).json()) as { slack: { state: string; reason: string; fix: string; pending?: number } | null };
    expect(devices.slack).toMatchObject({ state: 'token_refused', reason: 'token_revoked' });
    await waitFor(async () => ((await (await fetch(`${url}/v1/devices`, { headers: auth })).json()) as typeof devices).slack?.pending === 3, { what: 'three deliveries waiting on the page' });
    expect(fake.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(0);

    // Said once (stdout for the person, one error line in the log), not once per event.
    expect(p.stdout().match(/Slack refused the bot token/g)).toHaveLength(1);
    const errors = p.stderr().split('\n').filter((l) => l.includes('"level":50') && l.includes('Slack refused the bot token'));
    expect(errors).toHaveLength(1);
    expect(p.stdout() + p.stderr()).not.toContain('xoxb-revoked-0000');
    expect(p.child.exitCode).toBeNull();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});

describe('bellhop start with working Slack tokens', () => {
  it('names the routes, and says Socket Mode answers /ding only once it has connected', async () => {
    const fake = new FakeSlack();
    await fake.start();
    cleanups.push(() => fake.stop());
    const data = tempDir();
    const config = join(data.path, 'bellhop.yaml');
    writeFileSync(config, ['slack:', '  defaultChannel: "#general"', '  routes:', '    - match: { type: "ci.*", severity: error }', '      channel: "#dev"', ''].join('\n'));
    const p = start(
      data.path,
      {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: fake.apiUrl,
      },
      ['--config', config],
    );
    await p.waitForOutput(/Ring the bell:/);
    const banner = p.stdout();
    expect(banner).toContain('type ci.*, severity error → #dev');
    expect(banner).toContain('anything else → #general');
    expect(banner).toContain('/ding: connecting to Slack over Socket Mode…');
    await p.waitForOutput(/slack {3}Slack took the bot token: posting/);
    await p.waitForOutput(/slack {3}\/ding answered over Socket Mode \(connected\)/);
    // Said after the banner, never in it.
    expect(p.stdout().indexOf('answered over Socket Mode')).toBeGreaterThan(p.stdout().indexOf('Ring the bell:'));
  });
});

describe('bellhop start with a bot token that cannot read history', () => {
  it('stays ready but says on /readyz that exactly-once is degraded, and why', async () => {
    const fake = new FakeSlack({ scopes: ALL_SCOPES.filter((s) => s !== 'channels:history') });
    await fake.start();
    cleanups.push(() => fake.stop());
    const data = tempDir();
    const p = start(data.path, {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: fake.apiUrl,
      BELLHOP_SLACK_CHANNEL: '#bellhop',
    });
    const [, url, file] = await p.waitForOutput(/curl -X POST (\S+)\/v1\/events -H "Authorization: Bearer \$\(cat '(.+?)'\)"/);
    const token = readFileSync(file!, 'utf8').trim();
    const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'user.signup', data: { email: 'a@example.com' } }) });
    expect(res.status).toBe(202);
    let body: { status: string; warnings?: Record<string, string> } = { status: '' };
    await waitFor(async () => {
      const ready = await fetch(`${url}/readyz`);
      body = (await ready.json()) as typeof body;
      return ready.status === 200 && body.warnings?.slack !== undefined;
    }, { what: 'the degraded warning on /readyz', timeoutMs: 15_000 });
    expect(body.status).toBe('ready');
    expect(body.warnings!.slack).toMatch(/^exactly-once is degraded \(missing_scope: channels:history\)/);
  });
});
