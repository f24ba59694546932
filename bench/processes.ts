// Starting bellhop's processes (and the baseline) as their own processes, as in production,
// and reading what the kernel says they cost: CPU ticks and resident memory from /proc.
// A child's stdout and stderr go to files, as to the journal under systemd: the bench never
// reads a pipe under load, so it spends nothing on a child's per-event lines.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bellhop measured: this build's, or BENCH_CLI (another checkout's built dist/cli/main.js, to compare commits with one harness). */
export const CLI = process.env.BENCH_CLI ?? fileURLToPath(new URL('../cli/main.js', import.meta.url));
/** The repository root (dist/bench/ -> ../../), where `node_modules` resolves. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Proc {
  name: string;
  pid: number;
  /** Capture groups of the ready line. */
  match: RegExpMatchArray;
  /** Everything the process printed on stdout so far. */
  stdout(): string;
  /** The last part of its stderr (the JSON log), for error messages. */
  stderrTail(): string;
  /** Waits for a line on stdout printed after it got ready. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  script: string;
  args?: string[];
  env?: Record<string, string>;
  /** Folder for the stdout/stderr files. */
  logDir: string;
  ready: RegExp;
  nodeFlags?: string[];
  timeoutMs?: number;
}

/** Starts `node [flags] <script> ...args` and resolves once its stdout matches `ready`. */
export async function startProc(o: SpawnOptions): Promise<Proc> {
  const outFile = join(o.logDir, `${o.name}.stdout`);
  const errFile = join(o.logDir, `${o.name}.stderr`);
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(o.nodeFlags ?? []), o.script, ...(o.args ?? [])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...o.env },
      stdio: ['ignore', out, err],
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${o.name} did not start`);
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = `exited with ${code ?? signal}`));
  const readText = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const stderrTail = () => readText(errFile).slice(-2000);
  const waitFor = async (pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = readText(outFile).match(pattern);
      if (m) return m;
      if (exit) throw new Error(`${o.name} ${exit} before printing ${pattern}: ${readText(outFile).slice(-1000)} ${stderrTail()}`);
      if (Date.now() > deadline) throw new Error(`${o.name} did not print ${pattern} in ${timeoutMs} ms: ${readText(outFile).slice(-1000)} ${stderrTail()}`);
      await sleep(25);
    }
  };
  let match: RegExpMatchArray;
  try {
    match = await waitFor(o.ready, o.timeoutMs);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    name: o.name,
    pid,
    match,
    stdout: () => readText(outFile),
    stderrTail,
    waitFor,
    stop: () =>
      new Promise<void>((done) => {
        if (exit || child.exitCode !== null || child.signalCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The pid and every process below it (a part that forks would count too). */
export function withDescendants(pid: number): number[] {
  const found = [pid];
  for (let i = 0; i < found.length; i++) {
    const p = found[i]!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) found.push(Number(c));
      } catch {
        // The task ended meanwhile.
      }
    }
  }
  return found;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of each process (all its threads), in ms; a process that is gone counts 0. */
export function cpuMs(pids: number[]): number {
  const t = cpuTimes(pids);
  return t.user + t.system;
}

/** utime and stime summed over the processes, in ms. */
export function cpuTimes(pids: number[]): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    user += Number(fields[11]);
    system += Number(fields[12]);
  }
  const k = 1000 / clockTicks();
  return { user: user * k, system: system * k };
}

/** Resident memory (VmRSS) summed over the processes, in MB. */
export function rssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // Gone.
    }
  }
  return Math.round((kb / 1024) * 10) / 10;
}

/** Busy and total CPU time of the whole machine (all cores), in ms, from /proc/stat. */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest is already inside user)
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const k = 1000 / clockTicks();
  return { busy: (total - idle) * k, total: total * k };
}

/** Waits until the processes are (nearly) idle: below `share` of a core over 500 ms windows. */
export async function settle(pids: () => number[], maxMs = 30_000, share = 0.05): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const before = cpuMs(pids());
    await sleep(500);
    if (cpuMs(pids()) - before < 500 * share || Date.now() - t0 > maxMs) return Date.now() - t0;
  }
}
