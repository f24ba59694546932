// Test worlds on the shared RabbitMQ nodes of the third vitest project. A node takes ~10 s to boot, so the test setup starts one per vitest worker for the whole
// run (rabbitmq-setup.ts). Each node listens on a handful of MQTT ports; a test world leases
// one, gets a new virtual host (no queues, no retained messages) with the world's users as
// `bellhop rabbitmq-config` writes them, and the port is pointed at it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../../shared/config/schema.js';
import type { BrokerPart } from '../../broker/broker.js';
import { rabbitmqDefinitions, type RabbitmqDefinitions } from '../../broker/rabbitmq-files.js';
import { managementApi, type RabbitmqNodeInfo } from './rabbitmq-node.js';

async function api(apiPort: number, method: string, path: string, body?: unknown): Promise<string> {
  const res = await managementApi(apiPort, method, path, body);
  if (res.status >= 300 && !(method === 'DELETE' && res.status === 404)) throw new Error(`rabbitmq ${method} ${path}: ${res.status} ${res.text}`);
  return res.text;
}

// Deleting a vhost finishes in the background: one made again under the same name can be torn
// down with the old one. So every lease gets a vhost of its own and the port is pointed at it.
let leases = 0;
function freshVhost(port: number): string {
  return `bellhop-${port}-${process.pid}-${++leases}`;
}

/** Points `port` of the node at `vhost`: new connections to that port land there. */
async function mapPort(node: RabbitmqNodeInfo, port: number, vhost: string): Promise<void> {
  // The mapping is one global parameter, read, changed and written back: one process at a time.
  await withLock(join(node.leaseDir, 'mapping.lock'), async () => {
    const res = await managementApi(node.apiPort, 'GET', '/global-parameters/mqtt_port_to_vhost_mapping');
    const current = res.status === 200 ? ((JSON.parse(res.text) as { value: Record<string, string> }).value ?? {}) : {};
    await api(node.apiPort, 'PUT', '/global-parameters/mqtt_port_to_vhost_mapping', { value: { ...current, [String(port)]: vhost } });
  });
}

async function withLock(dir: string, fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      mkdirSync(dir);
      break;
    } catch {
      // Held by a process that died while holding it: take it after a while.
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  try {
    await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Creates `vhost` with `defs` (the world's users), or open to guest when the world has none. */
async function createVhost(apiPort: number, vhost: string, defs: RabbitmqDefinitions | undefined): Promise<void> {
  if (defs) {
    await api(apiPort, 'POST', '/definitions', defs);
    // The API gives whoever creates a vhost (guest) every right on it: take them back, so
    // an anonymous login (which the node lets in as guest, for open worlds) is refused here.
    await api(apiPort, 'DELETE', `/permissions/${encodeURIComponent(vhost)}/guest`);
  } else {
    await api(apiPort, 'PUT', `/vhosts/${encodeURIComponent(vhost)}`, {});
    await api(apiPort, 'PUT', `/permissions/${encodeURIComponent(vhost)}/guest`, { configure: '.*', write: '.*', read: '.*' });
  }
}

// A port (or a node) is taken while its lease file names a live process: test files of one
// worker can overlap for a moment (one ending while the next starts), and each is a process.
function claim(file: string): boolean {
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    const holder = Number(readFileSync(file, 'utf8'));
    if (holder === process.pid || alive(holder)) return false;
    rmSync(file, { force: true });
    return claim(file);
  }
}

function release(file: string): void {
  if (existsSync(file) && Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true });
}

const portLease = (node: RabbitmqNodeInfo, port: number) => join(node.leaseDir, String(port));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A world's broker on the shared node: one leased MQTT port and a new vhost with the world's users. */
export class RabbitmqBroker {
  readonly name = 'broker';
  #config: Config;
  #node: RabbitmqNodeInfo;
  #port: number | undefined;
  #vhost: string | undefined;

  constructor(config: Config, node: RabbitmqNodeInfo) {
    this.#config = config;
    this.#node = node;
  }

  get port(): number {
    if (this.#port === undefined) throw new Error('the RabbitMQ world has not started');
    return this.#port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get vhost(): string {
    if (this.#vhost === undefined) throw new Error('the RabbitMQ world has not started');
    return this.#vhost;
  }

  async start(): Promise<void> {
    if (this.#config.broker.tls) throw new Error('the RabbitMQ test node has no TLS listener');
    // A world started again on its port (a broker "restart") gets that port back, empty.
    const wanted = this.#config.broker.port;
    const port = wanted !== 0 ? wanted : this.#node.mqttPorts.find((p) => claim(portLease(this.#node, p)));
    if (port === undefined) throw new Error(`all ${this.#node.mqttPorts.length} RabbitMQ ports of this worker are in use`);
    if (wanted !== 0 && !(this.#node.mqttPorts.includes(port) && claim(portLease(this.#node, port)))) throw new Error(`port ${port} is not a free MQTT port of this worker's RabbitMQ node`);
    this.#port = port;
    const vhost = freshVhost(port);
    this.#vhost = vhost;
    const users = this.#config.broker.users;
    await createVhost(this.#node.apiPort, vhost, users.length > 0 ? rabbitmqDefinitions(users, this.#config.mqtt.topicPrefix, vhost) : undefined);
    await mapPort(this.#node, port, vhost);
  }

  /** The world is over: its vhost goes, closing every connection to it. */
  async stop(): Promise<void> {
    const port = this.#port;
    if (port === undefined) return;
    this.#port = undefined;
    await mapPort(this.#node, port, `bellhop-${port}-closed`);
    await api(this.#node.apiPort, 'DELETE', `/vhosts/${encodeURIComponent(this.#vhost ?? '')}`);
    release(portLease(this.#node, port));
  }
}

/**
 * A node of this run that no other live test process uses, held until this process exits.
 * RabbitMQ 3.10 tracks client ids across the whole node, not per vhost: two files with a
 * bell called office-bell on one node would keep disconnecting each other's.
 */
export async function ownNode(nodes: readonly RabbitmqNodeInfo[]): Promise<RabbitmqNodeInfo> {
  if (held) return held;
  if (nodes.length === 0) throw new Error('no RabbitMQ node was started for this run (see test/helpers/rabbitmq-setup.ts)');
  const first = (Number(process.env.VITEST_POOL_ID ?? '1') - 1) % nodes.length;
  const order = nodes.map((_, i) => nodes[(first + i) % nodes.length]!);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const free = order.find((node) => claim(join(node.leaseDir, '..', 'owner')));
    if (free) {
      held = free;
      process.once('exit', () => release(join(free.leaseDir, '..', 'owner')));
      return free;
    }
    if (Date.now() > deadline) throw new Error(`every RabbitMQ node of this run stayed in use by other test processes for 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
let held: RabbitmqNodeInfo | undefined;

/** The same broker under BrokerPart's type, for world.ts's startBroker (see asBrokerPart in mosquitto.ts). */
export function rabbitAsBrokerPart(broker: RabbitmqBroker): BrokerPart {
  const surface = broker satisfies { [K in Exclude<keyof BrokerPart, 'local'>]: BrokerPart[K] };
  return surface as unknown as BrokerPart;
}
