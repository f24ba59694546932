// The agent's unit runs with PrivateDevices=yes: an empty /dev but for null, zero and
// the like. The character-device driver needs one node in it, the header's gpiochip, so
// install-service binds exactly that node in (BindPaths=) and lets the cgroup open it
// (DeviceAllow=). Only that one: libgpiod 1.6 opens every /dev/gpiochip* it sees when it
// looks a line up, so a visible node it may not open would break the lookup.
// The chip is found here, by label, on the machine being installed: never a fixed number.
import { readFileSync } from 'node:fs';
import { findHeaderChip } from './chips.js';
import { gpioInterfaces, type InterfaceProbe } from './interfaces.js';
import { listChips, type ToolOptions } from './libgpiod-tools.js';
import { resolveLine } from './gpiod-line.js';

export const AGENT_UNIT_FILE = '/etc/systemd/system/bellhop-agent.service';

/** The lines that let a unit with PrivateDevices=yes open exactly `dev`. */
export function chipUnitLines(dev: string): string[] {
  // "-": a node renumbered away by a kernel update must not keep the unit from starting;
  // the agent then says which chip it found, and `bellhop doctor` what to re-run.
  return [`BindPaths=-${dev}`, `DeviceAllow=${dev} rw`];
}

/** The unit's lines with the chip's right after PrivateDevices=yes (unchanged without a chip). */
export function withGpioChip(lines: readonly string[], dev: string | undefined): string[] {
  if (!dev) return [...lines];
  const at = lines.indexOf('PrivateDevices=yes');
  if (at < 0) return [...lines];
  return [...lines.slice(0, at + 1), ...chipUnitLines(dev), ...lines.slice(at + 1)];
}

/** The GPIO chips a unit's text lets its service open: DeviceAllow= nodes also bound into a private /dev. */
export function unitGpioChips(unit: string): { privateDevices: boolean; allowed: string[] } {
  const privateDevices = /^PrivateDevices=(yes|true|on|1)$/m.test(unit);
  const bound = new Set([...unit.matchAll(/^BindPaths=-?(\/dev\/gpiochip\d+)$/gm)].map((m) => m[1]!));
  const allowed = [...unit.matchAll(/^DeviceAllow=(\/dev\/gpiochip\d+)\s+r?w/gm)].map((m) => m[1]!).filter((d) => !privateDevices || bound.has(d));
  return { privateDevices, allowed };
}

export function readUnitGpioChips(file = AGENT_UNIT_FILE): { privateDevices: boolean; allowed: string[] } | undefined {
  try {
    return unitGpioChips(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface UnitChipProbe extends ToolOptions, InterfaceProbe {
  /** The BCM pin to look for when no chip has a header label (the config's default). */
  pin?: number;
}

/** The header chip's node for the unit being installed under `root`, or undefined with a note saying why none. */
export function unitGpioChip(root: string, notes: string[], probe: UnitChipProbe = {}): string | undefined {
  if (root !== '/') {
    notes.push('installing under --root: the unit allows no GPIO character device (the chip is found on the Pi itself); run install-service there to use the gpiod driver');
    return undefined;
  }
  const devDir = probe.devDir ?? '/dev';
  if (gpioInterfaces(probe).chardev.length === 0) return undefined;
  const tools = probe.env ? { env: probe.env } : {};
  try {
    const header = findHeaderChip(listChips(tools));
    const chip = header?.name ?? resolveLine(probe.pin ?? 17, tools).chip;
    notes.push(`the unit lets the agent open ${devDir}/${chip} (the header's GPIO chip${header ? `, ${header.label}` : ''}) and no other device`);
    return `${devDir}/${chip}`;
  } catch (err) {
    notes.push(`cannot tell which /dev/gpiochipN drives the header (${(err as Error).message}): the unit allows none, so only the sysfs driver (onoff) can ring; fix that and run install-service again`);
    return undefined;
  }
}
