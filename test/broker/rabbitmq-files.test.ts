// The generated RabbitMQ files: each grant of broker/acl.ts as a regex over AMQP routing keys
// (which is how RabbitMQ checks MQTT topics), the password hashes, the conf, and the command.
// The suite's RabbitMQ run imports the same definitions into a real node (acl-deny.test.ts).
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grantRegex, rabbitmqDefinitions, rabbitmqFiles, rabbitmqPasswordHash } from '../../broker/rabbitmq-files.js';
import type { BrokerUserConfig } from '../../shared/config/schema.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/world.js';

const users: BrokerUserConfig[] = [
  { username: 'server', password: 'server-password', role: 'server' },
  { username: 'hallway', password: 'hallway-password', role: 'device', deviceId: 'hall-bell' },
  { username: 'slack', password: 'slack-password', role: 'slack' },
];

/** MQTT topic or filter as RabbitMQ's routing key: '/' is '.', '+' is '*'. */
const key = (mqtt: string) => mqtt.replaceAll('/', '.').replaceAll('+', '*');

describe('grantRegex', () => {
  const device = new RegExp(rabbitmqDefinitions(users, 'bellhop', 'bellhop').topic_permissions.find((p) => p.user === 'hallway')!.read);

  it("lets a bell read its own topics and every event, by topic and by wildcard filter", () => {
    for (const t of ['bellhop/devices/hall-bell/ding', 'bellhop/devices/hall-bell/+', 'bellhop/devices/all/rollcall', 'bellhop/events/user/signup', 'bellhop/events/#']) {
      expect(device.test(key(t)), t).toBe(true);
    }
  });

  it("never another bell's, nor a wildcard that would cover another's", () => {
    for (const t of ['bellhop/devices/pi-2/ding', 'bellhop/devices/+/ding', 'bellhop/devices/#', 'bellhop/devices/hall-bell/#', '#', 'bellhop/#', 'other/events/x']) {
      expect(device.test(key(t)), t).toBe(false);
    }
  });

  it("lets '+' cover one level (a '*' too) but not a '#', and '#' cover the parent and everything under it", () => {
    const re = new RegExp(grantRegex(['a/+/c', 'x/#']));
    expect(['a.b.c', 'a.*.c', 'x', 'x.y', 'x.y.z', 'x.#'].filter((k) => !re.test(k))).toEqual([]);
    expect(['a.#.c', 'a.b.c.d', 'a.c', 'xy', 'y.x'].filter((k) => re.test(k))).toEqual([]);
    expect(grantRegex([])).toBe('^$');
  });
});

describe('the definitions', () => {
  it("hash each password as RabbitMQ's rabbit_password_hashing_sha256 does, and never hold it", () => {
    const defs = rabbitmqDefinitions(users, 'bellhop', 'bellhop');
    expect(JSON.stringify(defs)).not.toContain('password"');
    expect(JSON.stringify(defs)).not.toContain('server-password');
    const hash = Buffer.from(defs.users[0]!.password_hash, 'base64');
    const salt = hash.subarray(0, 4);
    expect(hash.subarray(4)).toEqual(createHash('sha256').update(Buffer.concat([salt, Buffer.from('server-password')])).digest());
    expect(rabbitmqPasswordHash('x', Buffer.from([1, 2, 3, 4]))).toBe(Buffer.concat([Buffer.from([1, 2, 3, 4]), createHash('sha256').update(Buffer.from([1, 2, 3, 4, 0x78])).digest()]).toString('base64'));
  });

  it("give a bell only its own client id's session queues", () => {
    const perm = rabbitmqDefinitions(users, 'bellhop', 'bellhop').permissions.find((p) => p.user === 'hallway')!;
    const read = new RegExp(perm.read);
    expect(['mqtt-subscription-hall-bellqos1', 'mqtt-subscription-hall-bellqos0', 'amq.topic'].every((q) => read.test(q))).toBe(true);
    expect(['mqtt-subscription-pi-2qos1', 'mqtt-subscription-hall-bell2qos1', 'amq.direct'].some((q) => read.test(q))).toBe(false);
  });
});

describe('rabbitmq.conf', () => {
  const base = { host: '0.0.0.0', port: 1883, users, tls: undefined };

  it('listens on broker.port, refuses anonymous logins, never expires a session and loads the definitions', () => {
    const { conf } = rabbitmqFiles({ broker: base, topicPrefix: 'bellhop', vhost: 'bellhop', dir: '/etc/rabbitmq/bellhop' });
    for (const line of ['mqtt.listeners.tcp.default = 0.0.0.0:1883', 'mqtt.allow_anonymous = false', 'mqtt.vhost = bellhop', 'mqtt.subscription_ttl = infinity', 'load_definitions = /etc/rabbitmq/bellhop/definitions.json']) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(conf).not.toContain('durable_queue_type');
    expect(rabbitmqFiles({ broker: base, topicPrefix: 'bellhop', vhost: 'b', dir: '/x', quorum: true }).conf.split('\n')).toContain('mqtt.durable_queue_type = quorum');
  });

  it('is refused naming the key for port 0 or an open broker', () => {
    expect(() => rabbitmqFiles({ broker: { ...base, port: 0 }, topicPrefix: 'bellhop', vhost: 'b', dir: '/x' })).toThrow(/^broker\.port: /);
    expect(() => rabbitmqFiles({ broker: { ...base, users: [] }, topicPrefix: 'bellhop', vhost: 'b', dir: '/x' })).toThrow(/^broker\.users: /);
  });
});

describe('bellhop rabbitmq-config', () => {
  it('writes rabbitmq.conf and an owner-only definitions.json from the config file, and says how to run it', async () => {
    const dir = tempDir();
    const out = join(dir.path, 'rabbitmq');
    const configFile = join(dir.path, 'bellhop.yaml');
    const yaml = ['broker:', '  port: 1884', '  users:', ...users.map((u) => `    - { username: ${u.username}, password: ${u.password}, role: ${u.role}${u.deviceId ? `, deviceId: ${u.deviceId}` : ''} }`)].join('\n');
    writeFileSync(configFile, yaml);
    const p = runCli(['--config', configFile, 'rabbitmq-config', '--out', out, '--vhost', 'bells']);
    expect(await p.exited, p.stderr()).toBe(0);
    expect(p.stdout()).toContain('rabbitmq-plugins enable rabbitmq_mqtt');
    expect(readFileSync(join(out, 'rabbitmq.conf'), 'utf8')).toContain('mqtt.vhost = bells');
    const defs = JSON.parse(readFileSync(join(out, 'definitions.json'), 'utf8')) as { users: Array<{ name: string }>; vhosts: Array<{ name: string }> };
    expect(defs.users.map((u) => u.name)).toEqual(users.map((u) => u.username));
    expect(defs.vhosts).toEqual([{ name: 'bells' }]);
    expect(statSync(join(out, 'definitions.json')).mode & 0o777).toBe(0o600);
    dir.remove();
  });
});
