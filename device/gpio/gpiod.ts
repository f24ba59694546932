// The GPIO character-device driver, over libgpiod's gpioset. write(1) starts a gpioset
// that holds the line active; write(0) ends it and runs gpioset once more to drive the
// line inactive, because what a line does once its holder exits is the kernel's choice
// (Raspberry Pi kernels keep driving the last level, upstream ones make it an input).
// The holder carries its own deadline, the bell's absolute pulse cap, after which it
// drives the line inactive by itself: an agent killed mid-pulse (SIGKILL, OOM) leaves
// the solenoid on for at most that long even where no ExecStopPost follows.
// Spawning the tools rather than a native binding: docs/raspberry-pi.md explains.
import { spawn, type ChildProcess } from 'node:child_process';
import { ABSOLUTE_MAX_PULSE_MS } from '../bell.js';
import type { GpioDriver, PinValue } from './driver.js';
import { holdArgs, isBusy, runTool, setArgs, toolError, type LevelOptions, type ToolOptions } from './libgpiod-tools.js';
import { resolveLine, type ResolvedLine } from './gpiod-line.js';

export interface GpiodOpenOptions extends ToolOptions {
  activeLow?: boolean;
  /** Told when a strike's gpioset failed, so the pin did not move. */
  warn?: (message: string) => void;
}

/**
 * How long driving the line inactive retries while the line is still busy. Right after
 * write(0) kills the holder the kernel frees the line as that process exits, which is
 * at once; `bellhop pin-low` may also meet a holder left by a killed agent, which
 * ends by itself within ABSOLUTE_MAX_PULSE_MS.
 */
export const RELEASE_WAIT_MS = 500;

export interface DriveOptions extends LevelOptions, ToolOptions {
  waitMs?: number;
}

/** One gpioset that drives the line inactive and exits; synchronous, for exit paths. */
export function driveInactive(line: ResolvedLine, o: DriveOptions): void {
  const deadline = Date.now() + (o.waitMs ?? RELEASE_WAIT_MS);
  for (;;) {
    const r = runTool('gpioset', setArgs(line.version, line, 0, o), o);
    if (r.status === 0) return;
    if (!isBusy(r.stderr) || Date.now() >= deadline) throw toolError('gpioset', r.stderr);
    sleepSync(5);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const shellQuote = (arg: string): string => `'${arg.replaceAll("'", `'\\''`)}'`;
const command = (args: readonly string[]): string => ['gpioset', ...args].map(shellQuote).join(' ');

export class GpiodGpioDriver implements GpioDriver {
  readonly name = 'gpiod';
  readonly line: ResolvedLine;
  readonly activeLow: boolean;
  #tools: ToolOptions;
  #warn: ((message: string) => void) | undefined;
  #holder: ChildProcess | undefined;
  #closed = false;

  private constructor(line: ResolvedLine, opts: GpiodOpenOptions) {
    this.line = line;
    this.activeLow = opts.activeLow ?? false;
    this.#tools = opts.env ? { env: opts.env } : {};
    this.#warn = opts.warn;
  }

  /** Finds the line and drives it inactive once, so a wrong setup fails the start, not the first ring. */
  static open(bcmPin: number, opts: GpiodOpenOptions = {}): GpiodGpioDriver {
    const driver = new GpiodGpioDriver(resolveLine(bcmPin, opts), opts);
    driver.write(0);
    return driver;
  }

  write(value: PinValue): void {
    if (this.#closed) return;
    if (value === 1) {
      this.#startHolder();
      return;
    }
    this.#stopHolder();
    driveInactive(this.line, { activeLow: this.activeLow, ...this.#tools });
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.write(0);
    } finally {
      this.#closed = true;
    }
  }

  #startHolder(): void {
    if (this.#holder) return;
    const level = { activeLow: this.activeLow };
    const hold = command(holdArgs(this.line.version, this.line, ABSOLUTE_MAX_PULSE_MS, level));
    const low = command(setArgs(this.line.version, this.line, 0, level));
    // A process group of its own, so write(0) ends the shell and its gpioset together.
    const child = spawn('sh', ['-c', `${hold}; exec ${low}`], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: this.#tools.env ?? process.env });
    this.#holder = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => this.#warn?.(`cannot start gpioset for a strike: ${err.message}`));
    child.on('exit', (code) => {
      if (this.#holder === child) this.#holder = undefined;
      // Killed by write(0) is the normal end (code null); a failure is a strike that never reached the pin.
      if (code !== null && code !== 0) this.#warn?.(`a strike did not reach the pin: ${toolError('gpioset', stderr).message}`);
    });
  }

  #stopHolder(): void {
    const child = this.#holder;
    if (!child) return;
    this.#holder = undefined;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // It ended between the check and the kill: nothing left to stop.
    }
  }
}
