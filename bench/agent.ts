// The Pi agent's footprint as installed: `bellhop agent` as its own process (the mock pin,
// Node flags as the systemd unit sets them), its resident memory idle and after 10,000
// events, next to a bare `node` and a bare `node` that imports mqtt.js and connects (target:
// agent idle <= 1.25x the latter, flat after 10,000 events). RSS is VmRSS from /proc, read
// the same way for every process, after the same idle wait; no forced GC for anyone.
// Standalone (starts its own `bellhop broker`): npm run build && node dist/bench/agent.js
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { toEnvelope } from '../shared/envelope.js';
import { parseRang } from '../shared/messages.js';
import { CLI, rssMb, sleep, startProc, withDescendants } from './processes.js';

/** What systemd/bellhop-agent.service sets (NODE_OPTIONS). */
export const UNIT_NODE_FLAGS = ['--max-semi-space-size=1'];

export interface AgentFigures {
  nodeFlags: string[];
  /** Process spawn until it printed that the broker acknowledged its subscriptions. */
  spawnToSubscribedMs: number;
  events: number;
  /** Reports seen for those events (each one handled). */
  handled: number;
  /** MB, each after `idleMs` without load. */
  rssMb: { bareNode: number; bareNodeMqtt: number; agentIdle: number; agentAfterEvents: number };
  /** agentIdle / bareNodeMqtt (target <= 1.25). */
  idleRatio: number;
  /** agentAfterEvents - agentIdle (target: flat). */
  growthMb: number;
  idleMs: number;
}

export interface AgentOptions {
  mqttUrl: string;
  /** Folder for the agent's data and the processes' output. */
  dir: string;
  events?: number;
  nodeFlags?: string[];
  idleMs?: number;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function measureAgent(o: AgentOptions): Promise<AgentFigures> {
  const events = o.events ?? 10_000;
  const flags = o.nodeFlags ?? UNIT_NODE_FLAGS;
  const idleMs = o.idleMs ?? 3000;
  const tag = flags.length > 0 ? 'unit-flags' : 'node-defaults';
  const env = { NODE_OPTIONS: flags.join(' ') };
  const bareScript = fileURLToPath(new URL('./bare.js', import.meta.url));

  const bareRss = async (name: string, args: string[]) => {
    const p = await startProc({ name: `${name}-${tag}`, script: bareScript, args, env, logDir: o.dir, ready: /ready|connected/ });
    try {
      await sleep(idleMs);
      return rssMb(withDescendants(p.pid));
    } finally {
      await p.stop();
    }
  };
  const bareNode = await bareRss('bare-node', []);
  const bareNodeMqtt = await bareRss('bare-node-mqtt', [o.mqttUrl]);

  const deviceId = `bench-agent-${process.pid}-${tag}`;
  const dataDir = join(o.dir, `${deviceId}-data`);
  mkdirSync(dataDir, { recursive: true });
  const t0 = performance.now();
  const agent = await startProc({
    name: `agent-${tag}`,
    script: CLI,
    args: ['agent'],
    logDir: o.dir,
    ready: /subscribed via/,
    // The bell's limits are the defaults: a flood is coalesced by the rate cap, as on a Pi.
    env: { ...env, BELLHOP_MQTT_URL: o.mqttUrl, BELLHOP_DATA_DIR: dataDir, BELLHOP_GPIO_DRIVER: 'mock', BELLHOP_DEVICE_ID: deviceId },
  });
  const spawnToSubscribedMs = performance.now() - t0;
  const client = mqtt.connect(o.mqttUrl, { protocolVersion: 4, clean: true, clientId: `bench-publisher-${deviceId}`, reconnectPeriod: 0 });
  try {
    await new Promise<void>((resolve, reject) => client.once('connect', () => resolve()).once('error', reject));
    await sleep(idleMs);
    const agentIdle = rssMb(withDescendants(agent.pid));
    let handled = 0;
    const prefix = `bench-mem-${process.pid}-${tag}`;
    client.on('message', (_topic, payload) => {
      if (parseRang(payload)?.eventId.startsWith(prefix)) handled++;
    });
    await client.subscribeAsync(`bellhop/devices/${deviceId}/rang`, { qos: 0 });
    for (let i = 0; i < events; i += 500) {
      const sends: Array<Promise<unknown>> = [];
      for (let j = i; j < Math.min(events, i + 500); j++) {
        const envelope = toEnvelope({ type: 'user.signup', id: `${prefix}-${j}`, data: { email: `u${j}@example.com` } }, { source: 'bench' });
        sends.push(client.publishAsync('bellhop/events/user/signup', JSON.stringify(envelope), { qos: 1 }));
      }
      await Promise.all(sends);
    }
    const deadline = Date.now() + 120_000;
    while (handled < events && Date.now() < deadline) await sleep(50);
    await sleep(idleMs);
    const agentAfterEvents = rssMb(withDescendants(agent.pid));
    return {
      nodeFlags: flags,
      spawnToSubscribedMs: round(spawnToSubscribedMs, 0),
      events,
      handled,
      rssMb: { bareNode, bareNodeMqtt, agentIdle, agentAfterEvents },
      idleRatio: round(agentIdle / bareNodeMqtt, 2),
      growthMb: round(agentAfterEvents - agentIdle),
      idleMs,
    };
  } finally {
    await client.endAsync();
    await agent.stop();
  }
}

const self = process.argv[1] ? pathToFileURL(process.argv[1]).href === import.meta.url : false;
if (self) {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-bench-agent-'));
  const brokerData = join(dir, 'broker-data');
  mkdirSync(brokerData);
  const broker = await startProc({ name: 'broker', script: CLI, args: ['broker'], logDir: dir, ready: /listening on (mqtts?:\/\/\S+)/, env: { BELLHOP_MQTT_PORT: '0', BELLHOP_DATA_DIR: brokerData } });
  try {
    const mqttUrl = broker.match[1]!;
    const asInstalled = await measureAgent({ mqttUrl, dir });
    const nodeDefaults = await measureAgent({ mqttUrl, dir, nodeFlags: [] });
    process.stdout.write(`${JSON.stringify({ asInstalled, nodeDefaults }, null, 2)}\n`);
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
