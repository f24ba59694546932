// One real RabbitMQ node with the MQTT and management plugins, from a folder of its own, run
// as the user the tests run as (the packaged wrapper would switch to the rabbitmq user).
// The tests' shared nodes (rabbitmq-setup.ts) and the cluster soak start them.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const LIB = '/usr/lib/rabbitmq/lib';

/** The node's start script (run directly: the packaged wrapper would switch to the rabbitmq user). */
export function rabbitmqServerScript(): string | undefined {
  if (!existsSync(LIB)) return undefined;
  const release = readdirSync(LIB).find((d) => d.startsWith('rabbitmq_server-'));
  const script = release && join(LIB, release, 'sbin', 'rabbitmq-server');
  return script && existsSync(script) ? script : undefined;
}

export const RABBITMQ_MISSING = 'rabbitmq-server is not installed (apt-get install rabbitmq-server)';

/** What a node offers the tests: its management API and its MQTT ports (one vhost each). */
export interface RabbitmqNodeInfo {
  name: string;
  apiPort: number;
  mqttPorts: number[];
  /** Where the leases of its ports are kept, across test processes. */
  leaseDir: string;
}

export interface RabbitmqNodeOptions {
  dir: string;
  name: string;
  apiPort: number;
  distPort: number;
  mqttPorts: number[];
  /** Extra rabbitmq.conf lines (a cluster's peer discovery). */
  extraConf?: string[];
}

// Children still running when the process exits would outlive it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class RabbitmqNode {
  #opts: RabbitmqNodeOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #log = '';

  constructor(opts: RabbitmqNodeOptions) {
    this.#opts = opts;
  }

  get info(): RabbitmqNodeInfo {
    return { name: this.#opts.name, apiPort: this.#opts.apiPort, mqttPorts: this.#opts.mqttPorts, leaseDir: join(this.#opts.dir, 'leases') };
  }

  get log(): string {
    return this.#log;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const script = rabbitmqServerScript();
    if (!script) throw new Error(RABBITMQ_MISSING);
    const { dir, name, apiPort, distPort, mqttPorts } = this.#opts;
    mkdirSync(dir, { recursive: true });
    const conf = [
      'listeners.tcp = none',
      ...mqttPorts.map((p, i) => `mqtt.listeners.tcp.${i + 1} = 127.0.0.1:${p}`),
      // Open worlds (no broker.users) log in as guest; a world with users takes guest's rights away.
      'mqtt.allow_anonymous = true',
      'mqtt.subscription_ttl = infinity',
      'mqtt.tcp_listen_options.nodelay = true',
      'management.tcp.ip = 127.0.0.1',
      `management.tcp.port = ${apiPort}`,
      'log.console = true',
      'log.console.level = warning',
      'log.file = false',
      ...(this.#opts.extraConf ?? []),
      '',
    ].join('\n');
    writeFileSync(join(dir, 'rabbitmq.conf'), conf);
    writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt,rabbitmq_management].\n');
    const env = {
      ...process.env,
      RABBITMQ_NODENAME: name,
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_FEATURE_FLAGS_FILE: join(dir, 'feature_flags'),
      RABBITMQ_PID_FILE: join(dir, 'pid'),
      RABBITMQ_DIST_PORT: String(distPort),
    };
    this.#log = '';
    // In its own folder: a node that loses a peer writes MnesiaCore and crash dumps to its cwd.
    const child = spawn(script, [], { env: { ...env, ERL_CRASH_DUMP: join(dir, 'erl_crash.dump') }, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    live.add(child);
    this.#exited = once(child, 'exit').then(() => {
      live.delete(child);
    });
    const append = (d: Buffer) => (this.#log = (this.#log + d.toString()).slice(-20_000));
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`rabbitmq ${name} exited during start:\n${this.#log}`);
      if (await this.#ready()) return;
      if (Date.now() > deadline) {
        await this.stop('SIGKILL');
        throw new Error(`rabbitmq ${name} did not start within ${timeoutMs} ms:\n${this.#log}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  // The management API answers before the MQTT plugin has bound its listeners: wait for both.
  async #ready(): Promise<boolean> {
    try {
      const res = await managementApi(this.#opts.apiPort, 'GET', '/overview');
      if (res.status !== 200) return false;
    } catch {
      return false;
    }
    const open = await Promise.all(this.#opts.mqttPorts.map((p) => accepts(p)));
    return open.every(Boolean);
  }

  /** SIGTERM: RabbitMQ stops cleanly; SIGKILL: the node is lost, as with the power. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await this.#exited;
    }
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `n` distinct free ports, held together while they are picked. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer().listen(0, '127.0.0.1'));
  await Promise.all(servers.map((s) => once(s, 'listening')));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** One call to a node's management HTTP API, as guest (allowed on loopback). */
export async function managementApi(apiPort: number, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/api${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text() };
}

