// libgpiod's command-line tools, which is how bellhop speaks the GPIO character device:
// Raspberry Pi OS installs them (package gpiod), so the driver needs no native npm module
// to build on the Pi. Their syntax changed between 1.6 (Bookworm: chip and offset,
// --mode=time) and 2.x (Trixie: -c chip, lines by name, -t periods); the version is asked
// once and every argv is built here, so no other module knows either dialect.
import { spawnSync } from 'node:child_process';
import { GpioSetupError } from './chips.js';
import type { PinValue } from './driver.js';

export const INSTALL_HINT = 'sudo apt install gpiod';

export interface LibgpiodVersion {
  /** The command-line dialect: 1 (1.x) or 2 (2.x and later, which kept 2.0's syntax). */
  major: 1 | 2;
  /** As the tool printed it, e.g. "1.6.3". */
  text: string;
}

/** A chip as gpiodetect lists it; `name` is its node under /dev, found at run time. */
export interface CharChip {
  name: string;
  label: string;
  lines: number;
}

/** One line as gpioset addresses it. */
export interface LineAddress {
  chip: string;
  offset: number;
  /** Set when the line was found by this name: libgpiod 2 then addresses it by name too. */
  name?: string;
}

export interface ToolOptions {
  /** The environment the tools run with (tests put fake tools first on PATH). */
  env?: NodeJS.ProcessEnv;
}

export interface ToolRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs one tool to completion; a tool that is not installed is a setup problem, said so. */
export function runTool(tool: string, args: readonly string[], opts: ToolOptions = {}): ToolRun {
  const r = spawnSync(tool, args, { encoding: 'utf8', env: opts.env ?? process.env, timeout: 10_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new GpioSetupError(`${tool} is not installed: bellhop drives the GPIO character device with libgpiod's tools (${INSTALL_HINT})`);
    throw new GpioSetupError(`${tool} ${args.join(' ')}: ${code ?? r.error.message}`);
  }
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr.trim() };
}

/**
 * The first version in `gpioset --version`: "gpioset (libgpiod) v1.6.3" up to 2.2,
 * "gpioset v2.3 (libgpiod v2.2)" since (package version first, then the C API's).
 */
export function parseVersion(output: string): LibgpiodVersion | undefined {
  const m = /\bv(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) return undefined;
  const major = Number(m[1]);
  if (major < 1) return undefined;
  return { major: major === 1 ? 1 : 2, text: m[0].slice(1) };
}

export function detectVersion(opts: ToolOptions = {}): LibgpiodVersion {
  const r = runTool('gpioset', ['--version'], opts);
  const version = r.status === 0 ? parseVersion(r.stdout) : undefined;
  if (!version) throw new GpioSetupError(`cannot tell which libgpiod "gpioset --version" is (${(r.stdout || r.stderr).split('\n')[0] || `exit ${r.status}`})`);
  return version;
}

/** Every chip libgpiod can open, as `gpiodetect` lists them ("gpiochip0 [pinctrl-rp1] (54 lines)"). */
export function listChips(opts: ToolOptions = {}): CharChip[] {
  const r = runTool('gpiodetect', [], opts);
  const chips: CharChip[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+) \[(.*)\] \((\d+) lines\)$/.exec(line.trim());
    if (m) chips.push({ name: m[1]!, label: m[2]!, lines: Number(m[3]) });
  }
  // v2 lists the chips it could open and complains about the others; v1 lists none then.
  if (r.status !== 0 && chips.length === 0) throw toolError('gpiodetect', r.stderr);
  return chips;
}

/** A line by its name (the device tree names the header's lines "GPIO17"): 1.6 has gpiofind, 2.x gpioinfo. */
export function findLineByName(version: LibgpiodVersion, name: string, chip: string | undefined, opts: ToolOptions = {}): LineAddress | undefined {
  const r =
    version.major === 1 ? runTool('gpiofind', [name], opts) : runTool('gpioinfo', [...(chip ? ['-c', chip] : []), name], opts);
  const m = /^(\S+) (\d+)\b/.exec(r.stdout.trim());
  if (r.status !== 0 || !m) {
    if (/denied/i.test(r.stderr)) throw toolError(version.major === 1 ? 'gpiofind' : 'gpioinfo', r.stderr);
    return undefined;
  }
  return { chip: m[1]!, offset: Number(m[2]), name };
}

export interface LevelOptions {
  activeLow: boolean;
}

/**
 * The bias asks the SoC's own pull resistor to hold the line at the bell's "off" level
 * for whenever nothing drives it (a kernel that returns released lines to inputs).
 */
function common(o: LevelOptions): string[] {
  return [`--bias=${o.activeLow ? 'pull-up' : 'pull-down'}`, ...(o.activeLow ? ['--active-low'] : [])];
}

function lineId(line: LineAddress): string {
  return line.name ?? String(line.offset);
}

/** gpioset that drives the line to `value` and exits at once. */
export function setArgs(version: LibgpiodVersion, line: LineAddress, value: PinValue, o: LevelOptions): string[] {
  if (version.major === 1) return [...common(o), line.chip, `${line.offset}=${value}`];
  // -t 0: one period of zero, which 2.x reads as "set, then exit".
  return ['-c', line.chip, ...common(o), '-t', '0', `${lineId(line)}=${value}`];
}

/** gpioset that drives the line active and exits by itself after holdMs. */
export function holdArgs(version: LibgpiodVersion, line: LineAddress, holdMs: number, o: LevelOptions): string[] {
  const ms = Math.max(1, Math.round(holdMs));
  if (version.major === 1) {
    // 1.6 passes --usec to select() as tv_usec, which must stay below a second (or select
    // fails at once and the hold is no hold): whole seconds go to --sec.
    return ['--mode=time', `--sec=${Math.floor(ms / 1000)}`, `--usec=${(ms % 1000) * 1000}`, ...common(o), line.chip, `${line.offset}=1`];
  }
  // Two periods: hold ms, toggle to inactive, then a zero period: exit.
  return ['-c', line.chip, ...common(o), '-t', `${ms}ms,0`, `${lineId(line)}=1`];
}

export const isBusy = (stderr: string): boolean => /busy/i.test(stderr);

/** What a tool's complaint means for the person setting the bell up. */
export function toolError(tool: string, stderr: string): GpioSetupError {
  const said = stderr.split('\n').filter(Boolean).pop() ?? `${tool} failed`;
  if (/permission denied|not permitted/i.test(stderr)) {
    return new GpioSetupError(
      `${said}: this user may not open the GPIO chip; add it to the "gpio" group (sudo usermod -aG gpio $USER, then log in again; ` +
        'the systemd unit uses SupplementaryGroups=gpio and allows exactly that /dev/gpiochipN: run "sudo bellhop install-service agent" again after a kernel update renumbers the chips)',
    );
  }
  if (isBusy(stderr)) {
    return new GpioSetupError(`${said}: another program or a kernel driver (a dtoverlay in /boot/firmware/config.txt) holds the line; free it or wire the bell to another pin`);
  }
  return new GpioSetupError(said);
}
