import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aclFile, mosquittoFiles, passwdLine } from '../../broker/mosquitto-files.js';
import { closedAncestors, MOSQUITTO_USER, mosquittoOwnership } from '../../cli/commands/mosquitto-config.js';
import type { BrokerUserConfig } from '../../shared/config/schema.js';
import { runCli } from '../helpers/cli.js';
import { freePort, mosquittoBinary } from '../helpers/mosquitto.js';
import { tempDir, testConfig, waitFor } from '../helpers/world.js';

const root = process.getuid?.() === 0;
/** uid and gid of a user in this machine's /etc/passwd. */
function account(name: string): { uid: number; gid: number } | undefined {
  const f = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((l) => l[0] === name);
  return f ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined;
}
const mosquittoAccount = account(MOSQUITTO_USER);

const users: BrokerUserConfig[] = [
  { username: 'server', password: 'server-password', role: 'server' },
  { username: 'hallway', password: 'hallway-password', role: 'device', deviceId: 'hall-bell' },
  { username: 'slack', password: 'slack-password', role: 'slack' },
  { username: 'ops', password: 'ops-password', role: 'admin' },
];

/** The `topic` lines of one user's block. */
function block(acl: string, username: string): string[] {
  const lines = acl.split('\n');
  const start = lines.indexOf(`user ${username}`);
  expect(start).toBeGreaterThan(-1);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => !l.startsWith('topic '));
  return end === -1 ? rest : rest.slice(0, end);
}

describe('the generated Mosquitto files', () => {
  it('hash passwords exactly as mosquitto_passwd does ($7$, PBKDF2-SHA512, 101 rounds)', () => {
    // Written by `mosquitto_passwd -b pw alice secret-password` (Mosquitto 2.0.11).
    const fromMosquitto =
      'alice:$7$101$rF0Af9rut2pKanw6$VsGDW5Lf7Sj33tZ+zXidWDHlEvuoBPPS9+squ6ZkeC3kWTfsHA7sW7qPN6Mroi7JrgIQEoljYKxsr0V5nAyIZg==';
    expect(passwdLine('alice', 'secret-password', Buffer.from('rF0Af9rut2pKanw6', 'base64'))).toBe(fromMosquitto);
  });

  it('give a device only its own bell\'s topics, under its device id rather than its username', () => {
    expect(block(aclFile(users, 'bellhop'), 'hallway')).toEqual([
      'topic write bellhop/devices/hall-bell/status',
      'topic write bellhop/devices/hall-bell/rang',
      'topic write bellhop/devices/hall-bell/state',
      'topic write homeassistant/+/bellhop_hall-bell/+/config',
      'topic read bellhop/events/#',
      'topic read bellhop/devices/hall-bell/+',
      'topic read bellhop/devices/all/+',
    ]);
  });

  it('give the server, Slack and admin roles the grants of the embedded broker, under the configured prefix', () => {
    const acl = aclFile(users, 'acme/bells');
    expect(block(acl, 'server')).toEqual([
      'topic readwrite acme/bells/events/#',
      'topic write acme/bells/devices/+/ding',
      'topic write acme/bells/devices/+/mute',
      'topic write acme/bells/devices/all/rollcall',
      'topic read acme/bells/devices/+/+',
      'topic read acme/bells/slack/delivered',
      'topic read acme/bells/slack/health',
    ]);
    expect(block(acl, 'slack')).toContain('topic write acme/bells/devices/+/mute');
    expect(block(acl, 'slack')).toContain('topic write acme/bells/devices/all/rollcall');
    expect(block(acl, 'ops')).toEqual(['topic readwrite #', 'topic read $SYS/#']);
  });

  it('refuse names that would break the files or widen a device\'s grants', () => {
    const device = (deviceId: string) => [{ username: 'pi', password: 'pi-password', role: 'device' as const, deviceId }];
    expect(() => aclFile(device('+'), 'bellhop')).toThrow(/must be letters, digits/);
    expect(() => aclFile([{ username: '#', password: 'pi-password', role: 'device' }], 'bellhop')).toThrow(/must be letters, digits/);
    expect(() => aclFile([{ username: 'a b', password: 'pi-password', role: 'server' }], 'bellhop')).toThrow(/spaces/);
    expect(() => passwdLine('a:b', 'password1')).toThrow(/':'/);
    expect(() => passwdLine('pi', 'pass\nword')).toThrow(/line break/);
  });

  it('make an open loopback broker without users, and refuse port 0', () => {
    const open = mosquittoFiles({ broker: { host: '127.0.0.1', port: 1883, users: [] }, topicPrefix: 'bellhop', dir: '/etc/bellhop-mosquitto' });
    expect(open.conf).toContain('allow_anonymous true');
    expect(open.conf).toContain('listener 1883 127.0.0.1');
    expect(open.conf).toContain('persistence_location /etc/bellhop-mosquitto/data/');
    expect(open.acl).toBeUndefined();
    expect(() => mosquittoFiles({ broker: { host: '127.0.0.1', port: 0, users: [] }, topicPrefix: 'bellhop', dir: '/x' })).toThrow(/port 0/);
  });

  it('save after every change by default, or on an interval when asked', () => {
    const base = { broker: { host: '0.0.0.0', port: 1883, users }, topicPrefix: 'bellhop', dir: '/srv/mq' };
    const durable = mosquittoFiles(base).conf;
    expect(durable).toMatch(/^autosave_on_changes true\nautosave_interval 1$/m);
    expect(durable).toContain('allow_anonymous false');
    expect(durable).toContain('password_file /srv/mq/passwd');
    expect(durable).toContain('acl_file /srv/mq/acl');
    const timed = mosquittoFiles({ ...base, autosave: { onChanges: false, intervalSeconds: 30 } }).conf;
    expect(timed).toMatch(/^autosave_on_changes false\nautosave_interval 30$/m);
  });

  it('tie client ids to logins only when asked', () => {
    const base = { broker: { host: '127.0.0.1', port: 1883, users }, topicPrefix: 'bellhop', dir: '/srv/mq' };
    expect(mosquittoFiles(base).conf).not.toContain('use_username_as_clientid');
    expect(mosquittoFiles({ ...base, usernameAsClientId: true }).conf).toMatch(/^use_username_as_clientid true$/m);
  });

  it('serve TLS when broker.tls is set', () => {
    const conf = mosquittoFiles({
      broker: { host: '0.0.0.0', port: 8883, users, tls: { certFile: '/certs/broker.crt', keyFile: '/certs/broker.key' } },
      topicPrefix: 'bellhop',
      dir: '/srv/mq',
    }).conf;
    expect(conf).toContain('listener 8883 0.0.0.0\ncertfile /certs/broker.crt\nkeyfile /certs/broker.key\n');
  });
});

describe('bellhop mosquitto-config', () => {
  it('writes mosquitto.conf, acl and an owner-only passwd from the config file, and says how to run it', async () => {
    const dir = tempDir();
    const out = join(dir.path, 'mosquitto');
    const configFile = join(dir.path, 'bellhop.yaml');
    const yaml = [
      'broker:',
      '  port: 1884',
      '  users:',
      ...users.map((u) => `    - { username: ${u.username}, password: ${u.password}, role: ${u.role}${u.deviceId ? `, deviceId: ${u.deviceId}` : ''} }`),
    ].join('\n');
    writeFileSync(configFile, yaml);
    const p = runCli(['--config', configFile, 'mosquitto-config', '--out', out]);
    expect(await p.exited, p.stderr()).toBe(0);
    expect(p.stdout()).toContain(`run: mosquitto -c ${join(out, 'mosquitto.conf')}`);
    expect(readFileSync(join(out, 'mosquitto.conf'), 'utf8')).toContain('listener 1884 127.0.0.1');
    expect(block(readFileSync(join(out, 'acl'), 'utf8'), 'hallway')).toContain('topic read bellhop/devices/hall-bell/+');
    const passwd = readFileSync(join(out, 'passwd'), 'utf8');
    expect(passwd.split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual(users.map((u) => u.username));
    expect(passwd).not.toContain('server-password');
    expect(statSync(join(out, 'passwd')).mode & 0o777).toBe(0o600);
    dir.remove();
  });

  it('explains a bad --autosave-seconds', async () => {
    const p = runCli(['mosquitto-config', '--out', tempDir().path, '--autosave-seconds', 'soon'], { BELLHOP_DATA_DIR: testConfig().dataDir });
    expect(await p.exited).not.toBe(0);
    expect(p.stderr()).toContain('expected a whole number of seconds');
  });
});

describe('who owns what Mosquitto reads and writes once it has switched users', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nmosquitto:x:102:105::/var/lib/mosquitto:/usr/sbin/nologin\n';
  const paths = ['/srv/mq/data', '/srv/my mq/passwd'];

  it('is given to that user when we are root and it exists', () => {
    expect(mosquittoOwnership({ uid: 0, passwd, user: 'mosquitto', paths })).toEqual({ chown: { uid: 102, gid: 105 } });
  });

  it('is otherwise left to the exact command to run', () => {
    const command = "sudo chown -R mosquitto: /srv/mq/data '/srv/my mq/passwd'";
    expect(mosquittoOwnership({ uid: 1000, passwd, user: 'mosquitto', paths })).toEqual({ command });
    expect(mosquittoOwnership({ uid: undefined, passwd, user: 'mosquitto', paths })).toEqual({ command });
    expect(mosquittoOwnership({ uid: 0, passwd, user: 'broker', paths })).toEqual({ command: command.replace('mosquitto:', 'broker:') });
  });

  it('is no use behind a folder that user cannot enter', () => {
    const modes: Record<string, { mode: number; uid: number; gid: number }> = {
      '/': { mode: 0o755, uid: 0, gid: 0 },
      '/root': { mode: 0o700, uid: 0, gid: 0 },
      '/root/mq': { mode: 0o750, uid: 0, gid: 105 },
    };
    expect(closedAncestors('/root/mq/data', 102, 105, (p) => modes[p]!)).toEqual(['/root']);
    expect(closedAncestors('/root/mq/data', 102, 999, (p) => modes[p]!)).toEqual(['/root/mq', '/root']);
  });
});

describe('bellhop mosquitto-config and the mosquitto user', () => {
  const yaml = `broker:\n  users:\n${users.map((u) => `    - { username: ${u.username}, password: ${u.password}, role: ${u.role} }`).join('\n')}\n`;

  it('creates the persistence folder and gives it, with passwd and acl, to the mosquitto user (or says how)', async () => {
    const dir = tempDir();
    const out = join(dir.path, 'mq');
    writeFileSync(join(dir.path, 'bellhop.yaml'), yaml);
    const p = runCli(['mosquitto-config', '--config', join(dir.path, 'bellhop.yaml'), '--out', out]);
    expect(await p.exited, p.stderr()).toBe(0);
    expect(statSync(join(out, 'data')).isDirectory()).toBe(true);
    const owned = ['data', 'passwd', 'acl'].map((f) => join(out, f));
    if (root && mosquittoAccount) {
      for (const f of owned) expect(statSync(f), f).toMatchObject(mosquittoAccount);
      // mkdtemp makes the folder 0700: mosquitto could not get in.
      expect(p.stdout()).toContain(`warning: mosquitto cannot enter ${dir.path}`);
    } else {
      expect(p.stdout()).toContain(`run: sudo chown -R mosquitto: ${owned.join(' ')}`);
    }
    dir.remove();
  });

  const binary = mosquittoBinary();
  it.skipIf(!root || !binary || !mosquittoAccount)('gives a Mosquitto started as root what it needs: it starts, and saves into the folder', async () => {
    const dir = tempDir();
    chmodSync(dir.path, 0o755);
    const out = join(dir.path, 'mq');
    const port = await freePort();
    writeFileSync(join(dir.path, 'bellhop.yaml'), yaml.replace('broker:\n', `broker:\n  port: ${port}\n`));
    const p = runCli(['mosquitto-config', '--config', join(dir.path, 'bellhop.yaml'), '--out', out]);
    expect(await p.exited, p.stderr()).toBe(0);
    const child = spawn(binary!, ['-c', join(out, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = once(child, 'exit');
    try {
      await waitFor(() => /mosquitto version \S+ running/.test(log) || child.exitCode !== null, { timeoutMs: 5000, what: 'mosquitto to start' });
      expect(child.exitCode, log).toBeNull();
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(log).not.toMatch(/Error/);
    expect(existsSync(join(out, 'data', 'mosquitto.db')), log).toBe(true);
    dir.remove();
  });
});
