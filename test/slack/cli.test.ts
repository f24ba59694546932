import { readFileSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toEnvelope } from '../../shared/envelope.js';
import { Topics } from '../../shared/topics.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { connectClient, startBroker, tempDir, testConfig, waitFor } from '../helpers/world.js';
import { BOT_TOKEN, FakeSlack } from '../fake-slack/server.js';

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

function cli(args: string[], env: Record<string, string>): CliProcess {
  const p = runCli(args, env);
  running.push(p);
  return p;
}

describe('bellhop start without a Slack token', () => {
  it('prints what it would post to Slack, so a new user sees the sink working', async () => {
    const data = tempDir();
    const p = cli(['start'], { BELLHOP_DATA_DIR: data.path, BELLHOP_HTTP_PORT: '0', BELLHOP_MQTT_PORT: '0', BELLHOP_GPIO_DRIVER: 'sim' });
    await p.waitForOutput(/slack {3}dry run \(no SLACK_BOT_TOKEN\)/);
    const [, url, file, body] = await p.waitForOutput(/curl -X POST (\S+) -H "Authorization: Bearer \$\(cat '(.+?)'\)" -H 'Content-Type: application\/json' -d '(.+)'/);
    const token = readFileSync(file!, 'utf8').trim();
    // Not a terminal (as under systemd): the banner names the file, never the token.
    expect(p.stdout()).not.toContain(token);
    const res = await fetch(url!, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(202);
    await p.waitForOutput(/slack \(dry run\) would post to #bellhop: :large_blue_circle: A new customer signed up/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});

describe('bellhop slack as its own process', () => {
  it('posts each event once after being killed outright while Slack was down', async () => {
    const fake = new FakeSlack();
    await fake.start();
    cleanups.push(() => fake.stop());
    const base = testConfig();
    const broker = await startBroker(base);
    cleanups.push(() => broker.stop());
    const configFile = join(base.dataDir, 'bellhop.yaml');
    writeFileSync(configFile, 'slack:\n  retry: { minMs: 50, maxMs: 200 }\n  limiter: { intervalMs: 10, burst: 5 }\n');
    const env = {
      BELLHOP_MQTT_URL: broker.url,
      BELLHOP_DATA_DIR: base.dataDir,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: fake.apiUrl,
      BELLHOP_SLACK_CHANNEL: '#events',
    };
    fake.outage({ status: 500 });
    const first = cli(['-c', configFile, 'slack'], env);
    await first.waitForOutput(/bellhop slack subscribed via/);

    const publisher = await connectClient(broker.url);
    cleanups.push(() => publisher.endAsync());
    const topics = new Topics('bellhop');
    const events = ['k1', 'k2', 'k3'].map((id) => toEnvelope({ type: 'user.signup', id, subject: `[${id}]` }, { source: 'test' }));
    for (const e of events) await publisher.publishAsync(topics.event(e.type), JSON.stringify(e), { qos: 1 });
    // A post, then (since a 500 leaves open whether Slack took it) lookups before each retry.
    await waitFor(() => fake.callsTo('chat.postMessage').length >= 1 && fake.calls.length >= 3, { what: 'the sink to try Slack' });
    first.child.kill('SIGKILL');
    await first.exited;

    fake.outage(undefined);
    const second = cli(['-c', configFile, 'slack'], env);
    await second.waitForOutput(/bellhop slack subscribed via/);
    await waitFor(() => fake.posts('#events').length === 3, { what: 'the three events', timeoutMs: 10_000 });
    // Sent again (a publisher retrying): still once each.
    for (const e of events) await publisher.publishAsync(topics.event(e.type), JSON.stringify(e), { qos: 1 });
    const marker = toEnvelope({ type: 'user.signup', id: 'marker', subject: '[marker]' }, { source: 'test' });
    await publisher.publishAsync(topics.event(marker.type), JSON.stringify(marker), { qos: 1 });
    await waitFor(() => fake.posts('#events').some((m) => m.text.includes('[marker]')), { what: 'the marker' });
    expect(fake.posts('#events').map((m) => /\[(\w+)\]/.exec(m.text)?.[1]).sort()).toEqual(['k1', 'k2', 'k3', 'marker']);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
