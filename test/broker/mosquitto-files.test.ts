import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aclFile, mosquittoFiles, passwdLine } from '../../broker/mosquitto-files.js';
import type { BrokerUserConfig } from '../../shared/config/schema.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, testConfig } from '../helpers/world.js';

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
      'topic read acme/bells/devices/+/+',
      'topic read acme/bells/slack/delivered',
      'topic read acme/bells/slack/health',
    ]);
    expect(block(acl, 'slack')).toContain('topic write acme/bells/devices/+/mute');
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
    expect(await p.exited).toBe(0);
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
