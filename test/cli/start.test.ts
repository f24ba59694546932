import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { connectClient, startBroker, tempDir, testConfig, waitFor } from '../helpers/world.js';

const running: CliProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
});

function start(env: Record<string, string>): CliProcess {
  const p = runCli(['start'], env);
  running.push(p);
  return p;
}

describe('bellhop start', () => {
  it('runs the whole bridge on its defaults and the printed curl rings the simulated bell', async () => {
    const data = tempDir();
    const p = start({ BELLHOP_DATA_DIR: data.path, BELLHOP_HTTP_PORT: '0', BELLHOP_MQTT_PORT: '0', BELLHOP_GPIO_DRIVER: 'sim' });
    const [, url, file, body] = await p.waitForOutput(/curl -X POST (\S+) -H "Authorization: Bearer \$\(cat '(.+?)'\)" -H 'Content-Type: application\/json' -d '(.+)'/);
    const token = readFileSync(file!, 'utf8').trim();
    // Not a terminal (as under systemd): the banner names the file, never the token.
    expect(p.stdout()).not.toContain(token);
    const res = await fetch(url!, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(202);
    await p.waitForOutput(/\*ding\*/);
    await p.waitForOutput(/office-bell rang 1x for user\.signup/);

    // `bellhop emit` finds the generated token in the same data folder.
    const serverUrl = url!.replace(/\/v1\/events$/, '');
    const emit = runCli(['emit', 'bell.test', '--url', serverUrl], { BELLHOP_DATA_DIR: data.path });
    expect(await emit.exited).toBe(0);
    expect(emit.stdout()).toMatch(/^[0-9a-f-]{36}\n$/);
    await waitFor(() => p.stdout().match(/rang 1x for bell\.test/g)?.length === 1, { what: 'the emitted ding' });

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('stops at once with the key path when the config is wrong', async () => {
    const p = start({ BELLHOP_GPIO_PIN: 'seventeen', BELLHOP_DATA_DIR: tempDir().path });
    expect(await p.exited).toBe(78);
    // The user set a variable, not the key: the variable is what is named first.
    expect(p.stderr().trim()).toBe('config error: BELLHOP_GPIO_PIN=seventeen: device.gpio.pin: expected an integer 0-53, got "seventeen"');
  });

  it('emit explains a refused event and exits non-zero', async () => {
    const data = tempDir();
    const p = start({ BELLHOP_DATA_DIR: data.path, BELLHOP_HTTP_PORT: '0', BELLHOP_MQTT_PORT: '0', BELLHOP_GPIO_DRIVER: 'sim' });
    const [, url] = await p.waitForOutput(/curl -X POST (\S+)\/v1\/events/);
    const emit = runCli(['emit', 'user.sigup', '--url', url!], { BELLHOP_DATA_DIR: data.path });
    expect(await emit.exited).toBe(1);
    expect(emit.stderr()).toMatch(/400.*unknown_type/);
  });
});

describe('bellhop agent as its own process', () => {
  it('leaves a retained offline status (its will) when killed outright', async () => {
    const base = testConfig();
    const broker = await startBroker(base);
    try {
      const agent = runCli(['agent'], { BELLHOP_MQTT_URL: broker.url, BELLHOP_GPIO_DRIVER: 'sim', BELLHOP_DATA_DIR: base.dataDir });
      running.push(agent);
      const watcher = await connectClient(broker.url);
      const status: string[] = [];
      watcher.on('message', (_t, payload) => status.push(payload.toString()));
      await watcher.subscribeAsync('bellhop/devices/office-bell/status', { qos: 1 });
      await waitFor(() => status.at(-1) === 'online', { what: 'online', timeoutMs: 10_000 });
      agent.child.kill('SIGKILL');
      await waitFor(() => status.at(-1) === 'offline', { what: 'the will', timeoutMs: 10_000 });
      await watcher.endAsync();
    } finally {
      await broker.stop();
    }
  });
});

describe('bellhop --version', () => {
  it('prints the version in package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const p = runCli(['--version']);
    expect(await p.exited).toBe(0);
    expect(p.stdout()).toBe(`${version}\n`);
  });
});

describe('bellhop start with a bot token and nowhere to post', () => {
  it('refuses at once naming slack.defaultChannel, instead of dropping every event', async () => {
    const p = start({ BELLHOP_DATA_DIR: tempDir().path, BELLHOP_HTTP_PORT: '0', BELLHOP_MQTT_PORT: '0', BELLHOP_GPIO_DRIVER: 'sim', SLACK_BOT_TOKEN: 'xoxb-0000-token' });
    expect(await p.exited).toBe(78);
    expect(p.stderr().trim().split('\n').at(-1)).toBe(
      'config error: slack.defaultChannel: with a bot token and no slack.routes nothing would be posted; set slack.defaultChannel (BELLHOP_SLACK_CHANNEL), e.g. "#bellhop", or add slack.routes',
    );
  });
});
