// `npm run bench`: what users run, next to what it is compared with, in one run.
// Three targets, each as its own processes (bench/targets.ts): `bellhop start` (the default
// deployment), `bellhop broker` + `bellhop server`, and the bare baseline. Each first takes
// BENCH_EVENTS events (warm-up; its RSS after them is read), then, in BENCH_ROUNDS rounds
// with the order rotated each round: a closed loop (BENCH_CONNECTIONS keep-alive clients for
// BENCH_SECONDS) for every target, then an open loop (BENCH_RATE events/s for BENCH_SECONDS)
// for every target, with the CPU time of all the target's processes read from /proc around
// each phase. Last, the bell agent's memory as installed (bench/agent.ts). Prints a table for
// people, then one JSON line of every figure. Quick run: BENCH_SECONDS=3 BENCH_ROUNDS=1.
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOT_TOKEN, FakeSlack } from '../test/fake-slack/server.js';
import { measureAgent } from './agent.js';
import { closedLoop } from './ingest.js';
import { openLoop } from './latency.js';
import { cpuMs, cpuTimes, machineCpuMs, rssMb, settle, sleep } from './processes.js';
import { printReport, summarize, type ClosedPhase, type OpenPhase, type RunFigures, type TargetRun } from './report.js';
import { PASSED_ENV, startBaseline, startDefault, startServerOnly, TOKEN, type Target } from './targets.js';

function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw}: want a positive number`);
  return n;
}

const settings = {
  seconds: knob('BENCH_SECONDS', 10),
  connections: knob('BENCH_CONNECTIONS', 50),
  rate: knob('BENCH_RATE', 200),
  rounds: knob('BENCH_ROUNDS', 3),
  events: knob('BENCH_EVENTS', 10_000),
  slack: process.env.BENCH_SLACK === 'dry' ? ('dry run' as const) : ('fake Slack' as const),
  gpioDriver: process.env.BENCH_GPIO_DRIVER === 'mock' ? ('mock' as const) : ('sim' as const),
  /** BELLHOP_* settings given to every bellhop process (none: the defaults, as installed). */
  bellhopEnv: PASSED_ENV,
};

const IDLE_MS = 2000;

/** Runs one phase on a target, with its processes' CPU time, this process's and the machine's around it. */
async function phase<T>(target: Target, run: () => Promise<T>): Promise<{ result: T; cpuMs: number; systemMs: number; wallMs: number; otherMs: number }> {
  const pids = target.pids();
  const cpu0 = cpuTimes(pids);
  const self0 = process.cpuUsage();
  const machine0 = machineCpuMs();
  const t0 = Date.now();
  const result = await run();
  // A short tail: the durable subscribers' work on the last events counts too.
  await sleep(250);
  const cpu1 = cpuTimes(pids);
  const used = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
  const self = process.cpuUsage(self0);
  const busy = machineCpuMs().busy - machine0.busy;
  return { result, cpuMs: used, systemMs: cpu1.system - cpu0.system, wallMs: Date.now() - t0, otherMs: Math.max(0, busy - used - (self.user + self.system) / 1000) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'bellhop-bench-'));
  const fake = settings.slack === 'fake Slack' ? new FakeSlack() : undefined;
  const targets: Target[] = [];
  let ok = false;
  try {
    if (fake) await fake.start();
    const slack = fake ? { apiUrl: fake.apiUrl, botToken: BOT_TOKEN } : undefined;
    targets.push(await startDefault({ dir, slack, gpioDriver: settings.gpioDriver }));
    targets.push(await startServerOnly(dir));
    targets.push(await startBaseline(dir));
    const runs = new Map<Target, TargetRun>();
    const allPids = () => targets.flatMap((t) => t.pids());
    for (const t of targets) {
      await settle(t.pids);
      const rssIdle = rssMb(t.pids());
      await t.prepare('closed');
      const warmup = await closedLoop(t.url, TOKEN, settings.connections, { amount: settings.events });
      await settle(t.pids);
      const rssAfter = rssMb(t.pids());
      // The floor every per-event figure at a low rate carries: timers, heartbeats, the log's flushes.
      const idle0 = cpuMs(t.pids());
      await sleep(IDLE_MS);
      const idleCpuShare = (cpuMs(t.pids()) - idle0) / IDLE_MS;
      runs.set(t, { key: t.key, label: t.label, config: t.config, warmup, idleCpuShare, rss: { idle: rssIdle, afterEvents: rssAfter, end: NaN }, closed: [], open: [] });
      process.stderr.write(`bench: ${t.label} warmed up with ${warmup.accepted} events (${warmup.eventsPerSecond}/s)\n`);
    }
    for (let r = 0; r < settings.rounds; r++) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
      for (const t of order) {
        await t.prepare('closed');
        await settle(allPids);
        const p = await phase(t, () => closedLoop(t.url, TOKEN, settings.connections, { seconds: settings.seconds }));
        const closed: ClosedPhase = { ...p.result, round: r, cpuMs: p.cpuMs, systemMs: p.systemMs, wallMs: p.wallMs, otherMs: p.otherMs };
        runs.get(t)!.closed.push(closed);
        process.stderr.write(`bench: round ${r + 1}, ${t.label}, closed loop: ${closed.eventsPerSecond} events/s\n`);
      }
      for (const t of order) {
        // Idle first: events of the closed loop still queued for the bell must not ring now.
        await settle(allPids);
        await t.prepare('open');
        await settle(allPids);
        const idPrefix = `bench-${process.pid}-${t.key}-r${r}`;
        const p = await phase(t, () => openLoop({ url: t.url, token: TOKEN, rate: settings.rate, seconds: settings.seconds, idPrefix, ...(t.observe ? { observe: t.observe } : {}) }));
        const { httpMs, gpioMs, ...rest } = p.result;
        const open: OpenPhase = { ...rest, round: r, httpMs, gpioMs, cpuMs: p.cpuMs, systemMs: p.systemMs, phaseMs: p.wallMs, otherMs: p.otherMs };
        runs.get(t)!.open.push(open);
        process.stderr.write(`bench: round ${r + 1}, ${t.label}, ${settings.rate}/s open loop: ${open.accepted}/${open.sent} accepted, CPU ${(p.cpuMs / Math.max(1, open.accepted)).toFixed(3)} ms/event\n`);
      }
    }
    for (const t of targets) runs.get(t)!.rss.end = rssMb(t.pids());
    const serverOnly = targets.find((t) => t.key === 'serverOnly')!;
    process.stderr.write('bench: the bell agent as installed, idle and after events\n');
    const agent = await measureAgent({ mqttUrl: serverOnly.mqttUrl, dir, events: settings.events });
    const agentNodeDefaults = await measureAgent({ mqttUrl: serverOnly.mqttUrl, dir, events: settings.events, nodeFlags: [] });
    const figures: RunFigures = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      dataFs: describeFs(dir),
      settings,
      targets: [...runs.values()].map(summarize),
      agent,
      agentNodeDefaults,
      slackPosts: fake ? fake.callsTo('chat.postMessage').length : 0,
    };
    printReport(figures);
    ok = true;
  } finally {
    for (const t of targets.reverse()) await t.stop().catch(() => undefined);
    await fake?.stop();
    if (ok && !process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`bench: the processes' output is in ${dir}\n`);
  }
}

/** The data folders' file system: tmpfs makes every disk write and sync nearly free. */
function describeFs(dir: string): string {
  try {
    const type = statfsSync(dir).type;
    const known: Record<number, string> = { 0x01021994: 'tmpfs', 0xef53: 'ext2/3/4', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlayfs' };
    return known[type] ?? `0x${type.toString(16)}`;
  } catch {
    return '?';
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
