// `npm run bench`: ingest vs a bare baseline, HTTP-to-GPIO latency, agent memory.
// Prints a table for people and, last, one JSON line of every figure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, startChild, type Child } from './processes.js';
import { measureIngest, type IngestFigures } from './ingest.js';
import { measureLatency } from './latency.js';
import { measureAgent, type AgentFigures } from './agent.js';
import { writeFileSync } from 'node:fs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const TOKEN = 'bench-token-0123456789abcdef';

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bellhop-bench-'));
  const children: Child[] = [];
  try {
    const broker = await startChild(CLI, ['broker'], { BELLHOP_MQTT_PORT: '0', BELLHOP_DATA_DIR: dataDir, BELLHOP_LOG_LEVEL: 'warn' }, /listening on (mqtt:\/\/\S+)/);
    children.push(broker);
    const mqttUrl = broker.match[1]!;
    const serverEnv = { BELLHOP_MQTT_URL: mqttUrl, BELLHOP_HTTP_PORT: '0', BELLHOP_DATA_DIR: dataDir, BELLHOP_API_TOKEN: TOKEN };
    const ready = /listening on (http:\/\/\S+),/;
    const server = await startChild(CLI, ['server'], serverEnv, ready);
    children.push(server);
    // The same server publishing with QoS 2: what storing before the ack costs.
    const qos2Config = join(dataDir, 'qos2.yaml');
    writeFileSync(qos2Config, 'server:\n  publishQos: 2\n');
    const server2 = await startChild(CLI, ['--config', qos2Config, 'server'], { ...serverEnv, BELLHOP_DATA_DIR: join(dataDir, 'qos2') }, ready);
    children.push(server2);
    const baseline = await startChild(fileURLToPath(new URL('./baseline.js', import.meta.url)), [mqttUrl], {}, /listening on (http:\/\/\S+)/);
    children.push(baseline);

    // Alternate the three so drift on a noisy machine hits all alike; keep each one's best round.
    const rounds = 2;
    const bell: IngestFigures[] = [];
    const bell2: IngestFigures[] = [];
    const base: IngestFigures[] = [];
    for (const url of [server.match[1]!, server2.match[1]!, baseline.match[1]!]) await measureIngest(url, TOKEN, 2, CONNECTIONS); // warm-up
    for (let r = 0; r < rounds; r++) {
      base.push(await measureIngest(baseline.match[1]!, TOKEN, SECONDS, CONNECTIONS));
      bell.push(await measureIngest(server.match[1]!, TOKEN, SECONDS, CONNECTIONS));
      bell2.push(await measureIngest(server2.match[1]!, TOKEN, SECONDS, CONNECTIONS));
    }
    const best = (xs: IngestFigures[]) => xs.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));
    const ratio = (x: IngestFigures, y: IngestFigures) => Math.round((x.eventsPerSecond / y.eventsPerSecond) * 100) / 100;
    const ingest = { bellhop: best(bell), bellhopQos2: best(bell2), baseline: best(base), ratio: 0, ratioQos2: 0 };
    ingest.ratio = ratio(ingest.bellhop, ingest.baseline);
    ingest.ratioQos2 = ratio(ingest.bellhopQos2, ingest.baseline);

    const latency = await measureLatency(server.match[1]!, mqttUrl, TOKEN, 200, 10);
    const agent = await measureAgent();

    const figures = { ingest, latency, agent, connections: CONNECTIONS, seconds: SECONDS, node: process.version };
    print(figures);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function print(f: {
  ingest: { bellhop: IngestFigures; bellhopQos2: IngestFigures; baseline: IngestFigures; ratio: number; ratioQos2: number };
  latency: Awaited<ReturnType<typeof measureLatency>>;
  agent: AgentFigures;
}): void {
  const i = f.ingest;
  const rows: Array<[string, string, string]> = [
    ['ingest, bellhop (default: QoS 1, 202 after PUBACK)', `${i.bellhop.eventsPerSecond} events/s`, `p99 ${i.bellhop.p99Ms} ms, ${i.bellhop.refused} refused`],
    ['ingest, bellhop with server.publishQos 2 (202 after PUBCOMP)', `${i.bellhopQos2.eventsPerSecond} events/s`, `p99 ${i.bellhopQos2.p99Ms} ms, ${i.bellhopQos2.refused} refused`],
    ['ingest, bare node:http + mqtt.js, QoS 1 (202 after PUBACK)', `${i.baseline.eventsPerSecond} events/s`, `p99 ${i.baseline.p99Ms} ms`],
    ['ingest ratio to the baseline (target >= 0.7)', `${i.ratio}x`, `QoS 2: ${i.ratioQos2}x`],
    [`HTTP -> GPIO at ${f.latency.rate}/s for ${f.latency.seconds}s (target p99 <= 10 ms)`, `p99 ${f.latency.p99Ms} ms`, `p50 ${f.latency.p50Ms} ms, p95 ${f.latency.p95Ms} ms, max ${f.latency.maxMs} ms, ${f.latency.rung}/${f.latency.sent} rung`],
    ['agent start to subscribed (target <= 300 ms)', `${f.agent.startToSubscribedMs} ms`, `spawn to subscribed ${f.agent.spawnToSubscribedMs} ms`],
    [`agent RSS after ${f.agent.events} events / bare node (target <= 1.3)`, `${f.agent.rssRatio}x`, `${f.agent.rssMb.agentAfterAll} MB vs ${f.agent.rssMb.bareNode} MB; heap ${f.agent.heapUsedMb.agentAfterWarmup} -> ${f.agent.heapUsedMb.agentAfterAll} MB`],
  ];
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(66)} ${b.padEnd(18)} ${c}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
