// Turns the phases into figures, prints them for people (each next to its target), then one
// JSON line of every figure.
import type { AgentFigures } from './agent.js';
import type { ClosedLoopFigures } from './ingest.js';
import { percentile, type OpenLoopResult } from './latency.js';
import type { TargetKey } from './targets.js';

/** cpuMs: utime + stime of all the target's processes over the phase; systemMs: the stime part (kernel). */
export type ClosedPhase = ClosedLoopFigures & { round: number; cpuMs: number; systemMs: number; wallMs: number; otherMs: number };
export type OpenPhase = OpenLoopResult & { round: number; cpuMs: number; systemMs: number; phaseMs: number; otherMs: number };

export interface TargetRun {
  key: TargetKey;
  label: string;
  config: string;
  warmup: ClosedLoopFigures;
  /** CPU used idle (cores), after the warm-up. */
  idleCpuShare: number;
  rss: { idle: number; afterEvents: number; end: number };
  closed: ClosedPhase[];
  open: OpenPhase[];
}

export interface TargetSummary {
  key: TargetKey;
  label: string;
  config: string;
  /** Closed loop: median over the rounds, and each round's. */
  eventsPerSecond: number;
  eventsPerSecondRounds: number[];
  closedP99Ms: number;
  closedRefused: number;
  closedCpuMsPerEvent: number;
  /** Open loop at the set rate, all rounds pooled. */
  http: { p50Ms: number; p99Ms: number; maxMs: number; accepted: number; failed: number };
  cpuMsPerEvent: number;
  /** The kernel's part of cpuMsPerEvent (syscalls, fsync, TCP). */
  systemMsPerEvent: number;
  cpuShareOfCore: number;
  idleCpuShare: number;
  gpio?: { minMs: number; p50Ms: number; p99Ms: number; maxMs: number; rung: number; suppressed: Record<string, number>; unreported: number };
  rssMb: { idle: number; afterEvents: number; end: number };
  warmup: { events: number; eventsPerSecond: number };
  /** CPU the rest of the machine used during this target's phases (other processes), in cores. */
  otherLoadCores: { closed: number; open: number };
}

export interface RunFigures {
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  dataFs: string;
  settings: { seconds: number; connections: number; rate: number; rounds: number; events: number; slack: string; gpioDriver: string; bellhopEnv: Record<string, string> };
  targets: TargetSummary[];
  agent: AgentFigures;
  agentNodeDefaults: AgentFigures;
  slackPosts: number;
}

const r2 = (n: number) => Math.round(n * 100) / 100;
const r3 = (n: number) => Math.round(n * 1000) / 1000;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

export function summarize(run: TargetRun): TargetSummary {
  const http = run.open.flatMap((p) => p.httpMs).sort((a, b) => a - b);
  const accepted = sum(run.open.map((p) => p.accepted));
  const openCpu = sum(run.open.map((p) => p.cpuMs));
  const summary: TargetSummary = {
    key: run.key,
    label: run.label,
    config: run.config,
    eventsPerSecond: median(run.closed.map((p) => p.eventsPerSecond)),
    eventsPerSecondRounds: run.closed.map((p) => p.eventsPerSecond),
    closedP99Ms: median(run.closed.map((p) => p.p99Ms)),
    closedRefused: sum(run.closed.map((p) => p.refused)),
    closedCpuMsPerEvent: r3(sum(run.closed.map((p) => p.cpuMs)) / Math.max(1, sum(run.closed.map((p) => p.accepted)))),
    http: { p50Ms: r2(percentile(http, 50)), p99Ms: r2(percentile(http, 99)), maxMs: r2(http[http.length - 1] ?? NaN), accepted, failed: sum(run.open.map((p) => p.failed)) },
    cpuMsPerEvent: r3(openCpu / Math.max(1, accepted)),
    systemMsPerEvent: r3(sum(run.open.map((p) => p.systemMs)) / Math.max(1, accepted)),
    idleCpuShare: r3(run.idleCpuShare),
    cpuShareOfCore: r3(openCpu / Math.max(1, sum(run.open.map((p) => p.phaseMs)))),
    rssMb: run.rss,
    warmup: { events: run.warmup.accepted, eventsPerSecond: run.warmup.eventsPerSecond },
    otherLoadCores: {
      closed: r2(sum(run.closed.map((p) => p.otherMs)) / Math.max(1, sum(run.closed.map((p) => p.wallMs)))),
      open: r2(sum(run.open.map((p) => p.otherMs)) / Math.max(1, sum(run.open.map((p) => p.phaseMs)))),
    },
  };
  if (run.key === 'default') {
    const gpio = run.open.flatMap((p) => p.gpioMs).sort((a, b) => a - b);
    const suppressed: Record<string, number> = {};
    for (const p of run.open) for (const [k, v] of Object.entries(p.suppressed)) suppressed[k] = (suppressed[k] ?? 0) + v;
    summary.gpio = {
      // Below 0 would mean the clocks disagree (or a report named the wrong event).
      minMs: r2(gpio[0] ?? NaN),
      p50Ms: r2(percentile(gpio, 50)),
      p99Ms: r2(percentile(gpio, 99)),
      maxMs: r2(gpio[gpio.length - 1] ?? NaN),
      rung: gpio.length,
      suppressed,
      unreported: sum(run.open.map((p) => p.unreported)),
    };
  }
  return summary;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

type Check = [figure: string, target: string, measured: string, met: boolean | undefined];

export function printReport(f: RunFigures): void {
  const by = (key: TargetKey) => f.targets.find((t) => t.key === key)!;
  const def = by('default');
  const server = by('serverOnly');
  const base = by('baseline');
  const s = f.settings;
  const ratios = {
    defaultVsServerOnly: r2(def.eventsPerSecond / server.eventsPerSecond),
    defaultVsBaseline: r2(def.eventsPerSecond / base.eventsPerSecond),
    serverOnlyVsBaseline: r2(server.eventsPerSecond / base.eventsPerSecond),
    /** What adding the agent and the Slack sink costs the broker + server's throughput. */
    agentAndSinkCost: r2(1 - def.eventsPerSecond / server.eventsPerSecond),
    cpuPerEventDefaultVsServerOnly: r2(def.cpuMsPerEvent / server.cpuMsPerEvent),
    cpuPerEventDefaultVsBaseline: r2(def.cpuMsPerEvent / base.cpuMsPerEvent),
  };
  const out: string[] = [];
  out.push(`bellhop bench, ${f.date}, Node ${f.node}, ${f.cpus} x ${f.cpuModel}, data folders on ${f.dataFs}`);
  out.push(`closed loop: ${s.connections} keep-alive clients for ${s.seconds} s; open loop: ${s.rate} events/s for ${s.seconds} s; ${s.rounds} rounds, alternating; warm-up ${s.events} events each`);
  const env = Object.entries(s.bellhopEnv).map(([k, v]) => `${k}=${v}`).join(' ');
  out.push(`bellhop settings: ${env ? `defaults except ${env}` : 'the defaults (as installed)'}, except where a target says otherwise`);
  out.push('');
  const rows: string[][] = [
    ['', 'closed loop', '', '', `open loop, ${s.rate} events/s`, '', '', '', ''],
    ['target', 'events/s median (rounds)', 'p99', 'CPU/event', 'HTTP p50 / p99', 'CPU/event (kernel)', 'cores (idle)', `RSS MB idle / ${s.events} ev / end`, 'other load, cores'],
  ];
  for (const t of f.targets) {
    rows.push([
      t.label,
      `${t.eventsPerSecond} (${t.eventsPerSecondRounds.join(', ')})`,
      `${t.closedP99Ms} ms`,
      `${t.closedCpuMsPerEvent} ms`,
      `${t.http.p50Ms} / ${t.http.p99Ms} ms`,
      `${t.cpuMsPerEvent} ms (${t.systemMsPerEvent})`,
      `${t.cpuShareOfCore} (${t.idleCpuShare})`,
      `${t.rssMb.idle} / ${t.rssMb.afterEvents} / ${t.rssMb.end}`,
      `${t.otherLoadCores.closed} / ${t.otherLoadCores.open}`,
    ]);
  }
  out.push(table(rows));
  out.push('');
  for (const t of f.targets) out.push(`  ${t.label}: ${t.config}`);
  out.push('  CPU: utime + stime of all the target\'s processes (/proc/<pid>/stat) over the phase, per accepted event; other load: what the rest of the machine used meanwhile');
  if (def.gpio) {
    const g = def.gpio;
    const supp = Object.entries(g.suppressed).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
    out.push(`  ${def.label} HTTP -> GPIO at ${s.rate}/s: min ${g.minMs} ms, p50 ${g.p50Ms} ms, p99 ${g.p99Ms} ms, max ${g.maxMs} ms; ${g.rung}/${def.http.accepted} struck (not struck: ${supp}; no report: ${g.unreported})`);
  }
  out.push(`  Slack: ${s.slack}; ${f.slackPosts} chat.postMessage calls reached the fake Slack (bursts are folded into digests by default)`);
  out.push(`  refused or failed: closed loop ${f.targets.map((t) => `${t.label} ${t.closedRefused}`).join(', ')}; open loop ${f.targets.map((t) => `${t.label} ${t.http.failed}`).join(', ')}`);
  out.push('');
  const a = f.agent;
  const checks: Check[] = [
    ['default: accepted events/s (closed loop)', '>= 3,000', `${def.eventsPerSecond}`, def.eventsPerSecond >= 3000],
    [`default: HTTP p99 at ${s.rate}/s`, '<= 10 ms', `${def.http.p99Ms} ms`, def.http.p99Ms <= 10],
    [`default: HTTP -> GPIO p99 at ${s.rate}/s`, '<= 10 ms', `${def.gpio?.p99Ms ?? NaN} ms`, (def.gpio?.p99Ms ?? NaN) <= 10],
    [`default: CPU per event at ${s.rate}/s`, '<= 0.3 ms', `${def.cpuMsPerEvent} ms`, def.cpuMsPerEvent <= 0.3],
    ['throughput cost of agent + Slack sink (1 - default/server-only)', '<= 30%', `${Math.round(ratios.agentAndSinkCost * 100)}%`, ratios.agentAndSinkCost <= 0.3],
    ['default / server-only throughput', '', `${ratios.defaultVsServerOnly}x`, undefined],
    ['default / bare baseline throughput', '(aim 0.5x)', `${ratios.defaultVsBaseline}x`, undefined],
    ['server-only / bare baseline throughput', '', `${ratios.serverOnlyVsBaseline}x`, undefined],
    ['CPU per event: default / server-only, default / baseline', '', `${ratios.cpuPerEventDefaultVsServerOnly}x, ${ratios.cpuPerEventDefaultVsBaseline}x`, undefined],
    [
      `agent RSS idle / bare node + mqtt.js (${a.nodeFlags.join(' ') || 'Node defaults'})`,
      '<= 1.25x',
      `${a.idleRatio}x (${a.rssMb.agentIdle} vs ${a.rssMb.bareNodeMqtt} MB; bare node ${a.rssMb.bareNode} MB)`,
      a.idleRatio <= 1.25,
    ],
    [`agent RSS after ${a.events} events (${a.handled} handled)`, 'flat', `${a.rssMb.agentAfterEvents} MB (${a.growthMb >= 0 ? '+' : ''}${a.growthMb} MB)`, undefined],
    ['agent RSS idle, Node defaults', '', `${f.agentNodeDefaults.idleRatio}x (${f.agentNodeDefaults.rssMb.agentIdle} vs ${f.agentNodeDefaults.rssMb.bareNodeMqtt} MB)`, undefined],
    ['agent spawn to subscribed', '', `${a.spawnToSubscribedMs} ms`, undefined],
  ];
  out.push(table([['figure', 'target', 'measured', ''], ...checks.map(([x, t, m, met]) => [x, t, m, met === undefined ? '' : met ? 'met' : 'MISSED'])]));
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ ...f, ratios })}\n`);
}
