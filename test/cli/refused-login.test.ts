// A service that cannot log in must stop loudly (systemd restarts it with back-off and the
// journal says what to fix), never sit idle looking alive.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { startBroker, tempDir, testConfig } from '../helpers/world.js';

const running: CliProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

const USERS = [
  { username: 'office-bell', password: 'right-password-1', role: 'device' as const },
  { username: 'slack', password: 'right-password-2', role: 'slack' as const },
];

async function withBroker(fn: (url: string, dir: string) => Promise<void>): Promise<void> {
  const base = testConfig({ broker: { users: USERS } });
  const broker = await startBroker(base);
  const dir = tempDir();
  try {
    await fn(broker.url, dir.path);
  } finally {
    await broker.stop();
    dir.remove();
  }
}

function configFile(dir: string, yaml: string): string {
  const file = join(dir, 'bellhop.yaml');
  writeFileSync(file, yaml);
  return file;
}

function run(args: string[], url: string, dir: string): CliProcess {
  const p = runCli(args, { BELLHOP_MQTT_URL: url, BELLHOP_GPIO_DRIVER: 'sim', BELLHOP_DATA_DIR: join(dir, 'data') });
  running.push(p);
  return p;
}

describe('a part whose broker login is refused', () => {
  it('the bell agent exits non-zero naming the keys to fix, and never says it subscribed', async () => {
    await withBroker(async (url, dir) => {
      const file = configFile(dir, 'device:\n  mqtt:\n    username: office-bell\n    password: wrong-password\n');
      const agent = run(['--config', file, 'agent'], url, dir);
      const code = await agent.exited;
      const said = agent.stdout() + agent.stderr();
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(said).toMatch(/refused the login/);
      expect(said).toMatch(/device\.mqtt\.username and device\.mqtt\.password/);
      expect(said).not.toMatch(/subscribed via/);
      expect(said).not.toContain('wrong-password');
    });
  });

  it('the same agent with the right password subscribes and keeps running', async () => {
    await withBroker(async (url, dir) => {
      const file = configFile(dir, 'device:\n  mqtt:\n    username: office-bell\n    password: right-password-1\n');
      const agent = run(['--config', file, 'agent'], url, dir);
      await agent.waitForOutput(/bellhop agent office-bell \(sim driver\) subscribed via/);
      expect(agent.child.exitCode).toBeNull();
    });
  });

  it('the Slack part exits non-zero naming its keys', async () => {
    await withBroker(async (url, dir) => {
      const file = configFile(dir, 'slack:\n  mqtt:\n    username: slack\n    password: wrong-password\n');
      const slack = run(['--config', file, 'slack'], url, dir);
      const code = await slack.exited;
      expect(code).not.toBe(0);
      expect(slack.stdout() + slack.stderr()).toMatch(/slack\.mqtt\.username and slack\.mqtt\.password/);
    });
  });

  it('an agent whose broker stays away retries, then exits non-zero after mqtt.giveUpAfterMs naming the URL', async () => {
    const dir = tempDir();
    try {
      const file = configFile(dir.path, 'mqtt:\n  giveUpAfterMs: 1500\n  reconnectMs: 200\n');
      // Nothing listens on port 9 (discard) here: the connection is refused at once, every time.
      const agent = run(['--config', file, 'agent'], 'mqtt://127.0.0.1:9', dir.path);
      const code = await agent.exited;
      const said = agent.stdout() + agent.stderr();
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(said).toMatch(/no connection to the MQTT broker at mqtt:\/\/127\.0\.0\.1:9 for 2 s: check that it runs and that mqtt\.url points at it/);
      expect(said).not.toMatch(/subscribed via/);
    } finally {
      dir.remove();
    }
  });
});
