// `npm run bench`: ingest vs a bare baseline, HTTP-to-GPIO latency, agent memory.
// Prints a table for people and, last, one JSON line of every figure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, startChild, type Child } from './processes.js';
import { measureIngest, type IngestFigures } from './ingest.js';
import { measureLatency } from './latency.js';

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
    const server = await startChild(
      CLI,
      ['server'],
      { BELLHOP_MQTT_URL: mqttUrl, BELLHOP_HTTP_PORT: '0', BELLHOP_DATA_DIR: dataDir, BELLHOP_API_TOKEN: TOKEN },
      /listening on (http:\/\/\S+),/,
    );
    children.push(server);
    const baseline = await startChild(fileURLToPath(new URL('./baseline.js', import.meta.url)), [mqttUrl], {}, /listening on (http:\/\/\S+)/);
    children.push(baseline);

    // Alternate the two so drift on a noisy machine hits both alike; keep each one's best round.
    const rounds = 2;
    const bell: IngestFigures[] = [];
    const base: IngestFigures[] = [];
    await measureIngest(server.match[1]!, TOKEN, 2, CONNECTIONS); // warm-up
    await measureIngest(baseline.match[1]!, TOKEN, 2, CONNECTIONS);
    for (let r = 0; r < rounds; r++) {
      base.push(await measureIngest(baseline.match[1]!, TOKEN, SECONDS, CONNECTIONS));
      bell.push(await measureIngest(server.match[1]!, TOKEN, SECONDS, CONNECTIONS));
    }
    const best = (xs: IngestFigures[]) => xs.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));
    const ingest = { bellhop: best(bell), baseline: best(base), ratio: 0 };
    ingest.ratio = Math.round((ingest.bellhop.eventsPerSecond / ingest.baseline.eventsPerSecond) * 100) / 100;

    const latency = await measureLatency(server.match[1]!, mqttUrl, TOKEN, 200, 10);

    const figures = { ingest, latency, connections: CONNECTIONS, seconds: SECONDS, node: process.version };
    print(figures);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function print(f: {
  ingest: { bellhop: IngestFigures; baseline: IngestFigures; ratio: number };
  latency: Awaited<ReturnType<typeof measureLatency>>;
}): void {
  const rows: Array<[string, string, string]> = [
    ['ingest, bellhop (202 after PUBACK)', `${f.ingest.bellhop.eventsPerSecond} events/s`, `p99 ${f.ingest.bellhop.p99Ms} ms, ${f.ingest.bellhop.refused} refused`],
    ['ingest, bare node:http + mqtt.js', `${f.ingest.baseline.eventsPerSecond} events/s`, `p99 ${f.ingest.baseline.p99Ms} ms`],
    ['ingest ratio (target >= 0.7)', `${f.ingest.ratio}x`, ''],
    [`HTTP -> GPIO at ${f.latency.rate}/s for ${f.latency.seconds}s (target p99 <= 10 ms)`, `p50 ${f.latency.p50Ms} ms`, `p95 ${f.latency.p95Ms} ms, p99 ${f.latency.p99Ms} ms, max ${f.latency.maxMs} ms, ${f.latency.rung}/${f.latency.sent} rung`],
  ];
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(62)} ${b.padEnd(18)} ${c}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
