// The Pi agent's footprint: how long from start() to subscribed, and its memory
// after 10,000 events next to a bare `node` process (targets: <= 300 ms, RSS <=
// 1.3x bare node, no growth over the run). The agent runs in a child process of
// its own, on the mock pin, against an embedded broker in this process.
// Standalone: npm run build && node dist/bench/agent.js
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { AgentPart } from '../device/agent.js';
import { MockGpioDriver } from '../device/gpio/mock.js';
import { parseConfig } from '../shared/config/load.js';
import { toEnvelope } from '../shared/envelope.js';
import { createLogger } from '../shared/logger.js';

export interface AgentFigures {
  /** agent.start() until its subscriptions are acknowledged (median of the runs). */
  startToSubscribedMs: number;
  /** Process spawn until subscribed: Node's own start and module loading included. */
  spawnToSubscribedMs: number;
  events: number;
  /** Resident memory in MB, each measured after a full GC. */
  rssMb: { bareNode: number; agentStarted: number; agentAfterWarmup: number; agentAfterAll: number };
  /** agentAfterAll / bareNode (target <= 1.3). */
  rssRatio: number;
  /** agentAfterAll - agentAfterWarmup (the first 10% of the events): what the run added. */
  growthMb: number;
  /** The JS heap after a full GC, after the warm-up and after all events: growth here would be a leak. */
  heapUsedMb: { agentAfterWarmup: number; agentAfterAll: number };
}

export interface AgentBenchOptions {
  events?: number;
  /** Agent starts to take the median of. */
  starts?: number;
  /** Node flags for the agent process, e.g. ['--max-semi-space-size=1'] as the systemd unit sets. */
  nodeFlags?: string[];
}

type ChildMessage = { kind: 'subscribed'; startMs: number } | { kind: 'handled'; count: number } | { kind: 'rss'; rss: number; heapUsed: number };
type Memory = { rss: number; heapUsed: number };

const MB = 1024 * 1024;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function measureAgent(opts: AgentBenchOptions = {}): Promise<AgentFigures> {
  const events = opts.events ?? 10_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'bellhop-bench-agent-'));
  const logger = createLogger('silent');
  // Imported here, not at the top: the agent child loads this file too, and must not carry the broker.
  const { BrokerPart } = await import('../broker/broker.js');
  const broker = new BrokerPart({ config: parseConfig({ broker: { port: 0, persistence: 'memory' } }).broker, topicPrefix: 'bellhop', dataDir, logger });
  await broker.start();
  try {
    const starts: number[] = [];
    const spawns: number[] = [];
    for (let i = 0; i < (opts.starts ?? 5); i++) {
      const run = await startChild(broker.url, `bench-start-${process.pid}-${i}`, opts.nodeFlags ?? []);
      starts.push(run.startMs);
      spawns.push(run.spawnMs);
      await run.stop();
    }
    const bareNode = await bareNodeRss();
    const run = await startChild(broker.url, `bench-agent-${process.pid}`, opts.nodeFlags ?? []);
    try {
      const agentStarted = (await run.memory()).rss;
      const publisher = mqtt.connect(broker.url, { protocolVersion: 4 });
      await new Promise<void>((resolve, reject) => publisher.once('connect', () => resolve()).once('error', reject));
      const warmup = Math.ceil(events / 10);
      await publish(publisher, 0, warmup);
      await run.handled(warmup);
      const warm = await run.memory();
      await publish(publisher, warmup, events);
      await run.handled(events);
      const all = await run.memory();
      await publisher.endAsync();
      return {
        startToSubscribedMs: round(median(starts)),
        spawnToSubscribedMs: round(median(spawns)),
        events,
        rssMb: { bareNode: round(bareNode / MB), agentStarted: round(agentStarted / MB), agentAfterWarmup: round(warm.rss / MB), agentAfterAll: round(all.rss / MB) },
        rssRatio: round(all.rss / bareNode, 2),
        growthMb: round((all.rss - warm.rss) / MB),
        heapUsedMb: { agentAfterWarmup: round(warm.heapUsed / MB), agentAfterAll: round(all.heapUsed / MB) },
      };
    } finally {
      await run.stop();
    }
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function publish(client: mqtt.MqttClient, from: number, to: number): Promise<void> {
  const batch = 500;
  for (let i = from; i < to; i += batch) {
    const sends: Array<Promise<unknown>> = [];
    for (let j = i; j < Math.min(to, i + batch); j++) {
      const env = toEnvelope({ type: 'user.signup', id: `bench-${j}`, data: { email: `u${j}@example.com` } }, { source: 'bench' });
      sends.push(client.publishAsync('bellhop/events/user/signup', JSON.stringify(env), { qos: 1 }));
    }
    await Promise.all(sends);
  }
}

interface ChildRun {
  startMs: number;
  spawnMs: number;
  handled(count: number): Promise<void>;
  memory(): Promise<Memory>;
  stop(): Promise<void>;
}

function startChild(brokerUrl: string, deviceId: string, nodeFlags: string[]): Promise<ChildRun> {
  const spawnedAt = performance.now();
  const child = fork(fileURLToPath(import.meta.url), ['--agent-child', brokerUrl, deviceId], { execArgv: ['--expose-gc', ...nodeFlags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let handled = 0;
  const waiters = new Set<() => void>();
  let memoryReply: ((m: Memory) => void) | undefined;
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the agent child exited (${code}) before subscribing`)));
    child.on('message', (m: ChildMessage) => {
      if (m.kind === 'handled') {
        handled = m.count;
        for (const w of waiters) w();
      } else if (m.kind === 'rss') memoryReply?.({ rss: m.rss, heapUsed: m.heapUsed });
      else if (m.kind === 'subscribed') {
        resolve({
          startMs: m.startMs,
          spawnMs: performance.now() - spawnedAt,
          handled: (count) =>
            new Promise<void>((done) => {
              const check = () => {
                if (handled < count) return;
                waiters.delete(check);
                done();
              };
              waiters.add(check);
              check();
            }),
          memory: () =>
            new Promise<Memory>((done) => {
              memoryReply = done;
              child.send({ kind: 'rss' });
            }),
          stop: () =>
            new Promise<void>((done) => {
              child.removeAllListeners('exit');
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

/** A bare Node process's resident memory after a full GC. */
function bareNodeRss(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '-e', 'gc(); process.stdout.write(String(process.memoryUsage().rss))'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(Number(out)));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** The child: one agent on the mock pin, reporting to the parent over IPC. */
async function runChild(brokerUrl: string, deviceId: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bellhop-bench-child-'));
  const config = parseConfig({
    dataDir,
    mqtt: { url: brokerUrl },
    // The bell's own limits stay on: beyond the rate cap a flood is coalesced, as on a Pi.
    device: { id: deviceId, events: ['user.signup'], gpio: { driver: 'mock' }, bell: { pulseMs: 1, gapMs: 0, minGapMs: 0 } },
  });
  const agent = new AgentPart({ config, driver: new MockGpioDriver(), logger: createLogger('silent') });
  let count = 0;
  agent.on('rang', () => {
    count++;
    if (count % 100 === 0) process.send?.({ kind: 'handled', count });
  });
  process.on('message', (m: { kind: string }) => {
    if (m.kind !== 'rss') return;
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ kind: 'handled', count });
    const { rss, heapUsed } = process.memoryUsage();
    process.send?.({ kind: 'rss', rss, heapUsed });
  });
  process.once('SIGTERM', () => {
    void agent.stop().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  const subscribed = new Promise<void>((resolve) => agent.once('subscribed', resolve));
  const t0 = performance.now();
  await agent.start();
  await subscribed;
  process.send?.({ kind: 'subscribed', startMs: performance.now() - t0 });
}

const self = process.argv[1] ? pathToFileURL(process.argv[1]).href === import.meta.url : false;
if (self && process.argv[2] === '--agent-child') {
  await runChild(process.argv[3]!, process.argv[4]!);
} else if (self) {
  const plain = await measureAgent();
  const asInstalled = await measureAgent({ nodeFlags: ['--max-semi-space-size=1'] });
  process.stdout.write(`${JSON.stringify({ plain, asInstalled }, null, 2)}\n`);
}
