// An emulated kernel sysfs GPIO tree, so the real onoff driver can be tested off
// a Pi. A shell process in a private mount namespace (`unshare -m`) mounts a
// tmpfs over /sys/class, builds /sys/class/gpio with gpiochipN/{base,ngpio,label}
// for a given board, and plays the kernel: `export` and `unexport` are FIFOs it
// reads, and each gpioN/ (direction, value, active_low, edge) is built aside and
// renamed into place, because onoff busy-waits only ~100 ms for it to appear.
// Test code reaches into the namespace through /proc/<pid>/root and starts
// programs inside it with nsenter. What the "kernel" did goes to a log file:
//   export 529 | reject 17 (EINVAL on a real kernel) | busy 529 | unexport 529 value=0 active_low=0 direction=low
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, statSync, watch, existsSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from './world.js';

export interface ChipSpec {
  base: number;
  ngpio: number;
  label: string;
}

/** What /sys/class/gpio looks like on real boards. */
export const BOARDS = {
  /** Pi 4 on a kernel before 6.6: the header at base 0. */
  'pi4-legacy': [
    { base: 0, ngpio: 58, label: 'pinctrl-bcm2711' },
    { base: 504, ngpio: 8, label: 'raspberrypi-exp-gpio' },
  ],
  /** Pi 4 on kernel 6.6 and later: bases start at 512. */
  'pi4-kernel-6.6': [
    { base: 512, ngpio: 58, label: 'pinctrl-bcm2711' },
    { base: 570, ngpio: 8, label: 'raspberrypi-exp-gpio' },
  ],
  /** Pi 5: SoC chips first (not on the header), the header on RP1. */
  pi5: [
    { base: 512, ngpio: 32, label: 'gpio-brcmstb@107d508500' },
    { base: 544, ngpio: 4, label: 'gpio-brcmstb@107d508520' },
    { base: 548, ngpio: 17, label: 'gpio-brcmstb@107d517c00' },
    { base: 565, ngpio: 6, label: 'gpio-brcmstb@107d517c20' },
    { base: 571, ngpio: 54, label: 'pinctrl-rp1' },
  ],
} satisfies Record<string, ChipSpec[]>;

const KERNEL = `
set -u
log=$1; shift
chips="$*"
mount -t tmpfs -o mode=0755 bellhop-test-sysfs /sys/class || exit 97
G=/sys/class/gpio; S=/sys/class/.staging
mkdir -p $G $S
for spec in $chips; do
  base=\${spec%%:*}; rest=\${spec#*:}; ngpio=\${rest%%:*}; label=\${rest#*:}
  mkdir $G/gpiochip$base
  echo $base > $G/gpiochip$base/base
  echo $ngpio > $G/gpiochip$base/ngpio
  echo "$label" > $G/gpiochip$base/label
done
mkfifo $G/export $G/unexport
valid() {
  case $1 in ''|*[!0-9]*) return 1;; esac
  for spec in $chips; do
    base=\${spec%%:*}; rest=\${spec#*:}; ngpio=\${rest%%:*}
    if [ $1 -ge $base ] && [ $1 -lt $((base + ngpio)) ]; then return 0; fi
  done
  return 1
}
(
  while :; do
    n=$(cat $G/export)
    if ! valid "$n"; then echo "reject $n" >> $log; continue; fi
    if [ -e $G/gpio$n ]; then echo "busy $n" >> $log; continue; fi
    t=$S/gpio$n; rm -rf $t; mkdir $t
    echo in > $t/direction; echo 0 > $t/value; echo 0 > $t/active_low; echo none > $t/edge
    mv $t $G/gpio$n
    echo "export $n" >> $log
  done
) &
(
  while :; do
    n=$(cat $G/unexport)
    v=$(head -c1 $G/gpio$n/value 2>/dev/null); a=$(head -c1 $G/gpio$n/active_low 2>/dev/null); d=$(cat $G/gpio$n/direction 2>/dev/null)
    rm -rf $G/gpio$n
    echo "unexport $n value=$v active_low=$a direction=$d" >> $log
  done
) &
echo ready
wait
`;

/** Why the emulated tree cannot be built here, or undefined when it can. */
export function namespaceUnavailable(): string | undefined {
  for (const tool of ['unshare', 'nsenter', 'mkfifo', 'mount']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs bellhop-probe /sys/class'], { encoding: 'utf8' });
  if (probe.status !== 0) return `cannot make a private mount namespace with a tmpfs over /sys/class (needs root or CAP_SYS_ADMIN): ${probe.stderr.trim() || `exit ${probe.status}`}`;
  return undefined;
}

export interface ValueChange {
  value: string;
  /** When the file was written (its mtime), in ms with sub-ms precision. */
  atMs: number;
}

export interface Pulse {
  ms: number;
}

/** Watches one gpioN/value file and keeps each distinct write, timed by the file's mtime. */
export class ValueRecorder {
  readonly changes: ValueChange[] = [];
  #path: string;
  #timer: NodeJS.Timeout;
  #watcher: FSWatcher | undefined;
  #last = '';

  constructor(path: string) {
    this.#path = path;
    this.#sample();
    // inotify reports writes at once; the poll covers a watch that could not be set up.
    try {
      this.#watcher = watch(path, () => this.#sample());
      this.#watcher.on('error', () => undefined);
    } catch {
      this.#watcher = undefined;
    }
    this.#timer = setInterval(() => this.#sample(), 2);
  }

  #sample(): void {
    try {
      const value = readFileSync(this.#path, 'utf8').slice(0, 1);
      const mtimeNs = statSync(this.#path, { bigint: true }).mtimeNs;
      const key = `${value}@${mtimeNs}`;
      if (key === this.#last) return;
      this.#last = key;
      this.changes.push({ value, atMs: Number(mtimeNs) / 1e6 });
    } catch {
      // The pin was unexported (its folder removed): nothing more to record.
    }
  }

  get value(): string | undefined {
    return this.changes[this.changes.length - 1]?.value;
  }

  /** High periods: from a write of 1 to the next write of 0. */
  pulses(): Pulse[] {
    const out: Pulse[] = [];
    let high: number | undefined;
    for (const c of this.changes) {
      if (c.value === '1' && high === undefined) high = c.atMs;
      else if (c.value === '0' && high !== undefined) {
        out.push({ ms: c.atMs - high });
        high = undefined;
      }
    }
    return out;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#watcher?.close();
  }
}

export interface InsideProcess {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Kills what runs inside, then the namespace's holder (its process group `pid`), and waits for it. */
export async function endNamespace(holder: ChildProcessWithoutNullStreams, pid: number, inside: Set<ChildProcessWithoutNullStreams>): Promise<void> {
  for (const child of inside) child.kill('SIGKILL');
  if (holder.exitCode !== null) return;
  const gone = new Promise((resolve) => holder.once('exit', resolve));
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  await gone;
}

/** `node <args>` in the mount namespace of `pid`, kept in `inside` until it exits (so a sandbox's stop can kill it). */
export function nodeInside(pid: number, args: string[], env: Record<string, string>, inside: Set<ChildProcessWithoutNullStreams>): InsideProcess {
  const child = spawn('nsenter', [`--target=${pid}`, '--mount', '--', process.execPath, ...args], { env, stdio: 'pipe' });
  inside.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      inside.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

export class SysfsGpioSandbox {
  readonly pid: number;
  #holder: ChildProcessWithoutNullStreams;
  #logFile: string;
  #removeDir: () => void;
  #recorders: ValueRecorder[] = [];
  #inside = new Set<ChildProcessWithoutNullStreams>();

  private constructor(holder: ChildProcessWithoutNullStreams, logFile: string, removeDir: () => void) {
    this.#holder = holder;
    this.pid = holder.pid!;
    this.#logFile = logFile;
    this.#removeDir = removeDir;
  }

  /** Builds the board's tree in a new mount namespace; resolves once the "kernel" runs. */
  static async start(chips: readonly ChipSpec[]): Promise<SysfsGpioSandbox> {
    const dir = tempDir('bellhop-sysfs-');
    const logFile = join(dir.path, 'kernel.log');
    const specs = chips.map((c) => `${c.base}:${c.ngpio}:${c.label}`);
    // Its own process group, so stop() ends the shell and every loop it started.
    const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', KERNEL, 'sh', logFile, ...specs], {
      detached: true,
      stdio: 'pipe',
    });
    const sandbox = new SysfsGpioSandbox(holder, logFile, dir.remove);
    let out = '';
    let err = '';
    holder.stdout.on('data', (d: Buffer) => (out += d.toString()));
    holder.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(() => {
      if (holder.exitCode !== null) throw new Error(`the emulated kernel exited (${holder.exitCode}): ${err}`);
      return out.includes('ready');
    }, { what: 'the emulated sysfs GPIO tree' });
    return sandbox;
  }

  /** A path under the namespace's /sys/class/gpio, as seen from this process. */
  path(rel = ''): string {
    return join(`/proc/${this.pid}/root/sys/class/gpio`, rel);
  }

  log(): string[] {
    return existsSync(this.#logFile) ? readFileSync(this.#logFile, 'utf8').split('\n').filter(Boolean) : [];
  }

  async waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return waitFor(() => this.log().find((l) => pattern.test(l)), { timeoutMs, what: `the kernel log to show ${pattern} (log: ${JSON.stringify(this.log())})` });
  }

  read(rel: string): string {
    return readFileSync(this.path(rel), 'utf8').trim();
  }

  record(sysfsNumber: number): ValueRecorder {
    const recorder = new ValueRecorder(this.path(`gpio${sysfsNumber}/value`));
    this.#recorders.push(recorder);
    return recorder;
  }

  /** Runs `node <args>` inside the namespace, where /sys/class/gpio is the emulated one. */
  node(args: string[], env: Record<string, string> = {}): InsideProcess {
    return nodeInside(this.pid, args, { PATH: process.env.PATH ?? '', ...env }, this.#inside);
  }

  async stop(): Promise<void> {
    for (const r of this.#recorders) r.stop();
    await endNamespace(this.#holder, this.pid, this.#inside);
    this.#removeDir();
  }
}
