// The bell's pin, checked without striking it: which GPIO interfaces the kernel offers
// (sysfs, the character device, both) and so which driver runs; for sysfs (onoff) which
// chip drives the header, which number the BCM pin becomes, may this user export it, and
// does onoff load; for the character device (gpiod) which libgpiod, which chip and line,
// may this user and the service open /dev/gpiochipN, and does the unit allow exactly it.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Config, DeviceConfig } from '../../shared/config/schema.js';
import { describeChip, resolvePin, SYSFS_GPIO_ROOT } from '../../device/gpio/chips.js';
import { loadOnoff } from '../../device/gpio/onoff.js';
import { autoDrivers, CHARDEV_DIR, describeInterfaces, gpioInterfaces } from '../../device/gpio/interfaces.js';
import { detectVersion, type ToolOptions } from '../../device/gpio/libgpiod-tools.js';
import { describeLine, resolveLine } from '../../device/gpio/gpiod-line.js';
import { AGENT_UNIT_FILE, readUnitGpioChips } from '../../device/gpio/systemd-unit.js';
import type { DoctorResult, DoctorSection } from './check.js';

export interface GpioProbe {
  root?: string;
  /** Where the /dev/gpiochipN nodes are. */
  devDir?: string;
  load?: () => Promise<unknown>;
  writable?: (path: string) => boolean;
  /** May this user open a device node for reading and writing. */
  openable?: (path: string) => boolean;
  user?: string;
  /** The environment libgpiod's tools run with. */
  env?: NodeJS.ProcessEnv;
  unitFile?: string;
  groupFile?: string;
}

export async function gpioChecks(gpio: DeviceConfig['gpio'], probe: GpioProbe = {}): Promise<DoctorResult[]> {
  const root = probe.root ?? SYSFS_GPIO_ROOT;
  if (gpio.driver === 'gpiod') return chardevChecks(gpio, probe);
  if (gpio.driver !== 'auto') return sysfsChecks(gpio, probe);
  const interfaces = gpioInterfaces({ sysfsRoot: root, devDir: probe.devDir ?? CHARDEV_DIR });
  const [first, then] = autoDrivers(interfaces);
  if (!first) return [{ ok: true, message: `no ${root} here: driver auto uses the simulated bell` }];
  const head = { ok: true, message: `this machine offers ${describeInterfaces(interfaces, root)}: driver auto uses ${first}${then ? ` (${then} if that fails)` : ''}` };
  return [head, ...(first === 'onoff' ? await sysfsChecks(gpio, probe) : chardevChecks(gpio, probe))];
}

async function sysfsChecks(gpio: DeviceConfig['gpio'], probe: GpioProbe): Promise<DoctorResult[]> {
  const root = probe.root ?? SYSFS_GPIO_ROOT;
  const writable = probe.writable ?? isWritable;
  const user = probe.user ?? currentUser();
  const results: DoctorResult[] = [];
  let number: number;
  try {
    const pin = resolvePin(gpio, root);
    number = pin.sysfsNumber;
    if (pin.chip) {
      results.push({ ok: true, message: `found ${describeChip(pin.chip)}` });
      results.push({ ok: true, message: `BCM pin ${pin.bcmPin} is sysfs GPIO ${number}${gpio.activeLow ? ' (active low)' : ''}` });
    } else {
      results.push({ ok: true, message: `sysfs GPIO ${number}, as device.gpio.sysfsNumber says` });
    }
  } catch (err) {
    return [...results, { ok: false, message: (err as Error).message }];
  }
  const exportFile = join(root, 'export');
  results.push(
    writable(exportFile)
      ? { ok: true, message: `${user} may export pins (${exportFile} is writable)` }
      : { ok: false, message: `${user} cannot write ${exportFile}: add it to the gpio group (sudo usermod -aG gpio ${user}, then log in again)` },
  );
  const pinDir = join(root, `gpio${number}`);
  if (existsSync(pinDir)) {
    const value = join(pinDir, 'value');
    results.push(
      writable(value)
        ? { ok: true, message: `GPIO ${number} is already exported (by another program, or an agent that was killed); bellhop takes it over, "bellhop pin-low" releases it` }
        : { ok: false, message: `GPIO ${number} is exported but ${user} cannot write ${value}: add it to the gpio group, or run "sudo bellhop pin-low"` },
    );
  }
  try {
    await (probe.load ?? loadOnoff)();
    results.push({ ok: true, message: 'the onoff GPIO driver loads' });
  } catch (err) {
    results.push({ ok: false, message: (err as Error).message });
  }
  return results;
}

function chardevChecks(gpio: DeviceConfig['gpio'], probe: GpioProbe): DoctorResult[] {
  const tools: ToolOptions = probe.env ? { env: probe.env } : {};
  const results: DoctorResult[] = [];
  try {
    const version = detectVersion(tools);
    const dialect = version.major === 1 ? 'gpioset --mode=time with gpiofind' : 'gpioset -c/-t with gpioinfo';
    results.push({ ok: true, message: `libgpiod ${version.text} tools (${dialect})` });
    const line = resolveLine(gpio.pin, { ...tools, version });
    results.push({ ok: true, message: `BCM pin ${gpio.pin} is ${describeLine(line)}${gpio.activeLow ? ' (active low)' : ''}` });
    const dev = join(probe.devDir ?? CHARDEV_DIR, line.chip);
    results.push(...deviceAccess(dev, probe));
    const unit = unitCheck(`${CHARDEV_DIR}/${line.chip}`, probe.unitFile ?? AGENT_UNIT_FILE);
    if (unit) results.push(unit);
  } catch (err) {
    results.push({ ok: false, message: (err as Error).message });
  }
  return results;
}

/** May this user open the node, and may the service (group gpio, which its unit adds). */
function deviceAccess(dev: string, probe: GpioProbe): DoctorResult[] {
  const user = probe.user ?? currentUser();
  let st: { mode: number; gid: number };
  try {
    st = statSync(dev);
  } catch (err) {
    return [{ ok: false, message: `cannot look at ${dev}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }];
  }
  const mode = st.mode & 0o777;
  const group = groupName(st.gid, probe.groupFile ?? '/etc/group');
  const owner = `group ${group}, mode ${mode.toString(8).padStart(4, '0')}`;
  const results: DoctorResult[] = [
    (probe.openable ?? isOpenable)(dev)
      ? { ok: true, message: `${user} may open ${dev} (${owner})` }
      : { ok: false, message: `${user} cannot open ${dev} (${owner}): add it to the gpio group (sudo usermod -aG gpio ${user}, then log in again)` },
  ];
  const serviceMay = (group === 'gpio' && (mode & 0o060) === 0o060) || (mode & 0o006) === 0o006;
  results.push(
    serviceMay
      ? { ok: true, message: `the bellhop service may open ${dev} too (SupplementaryGroups=gpio)` }
      : {
          ok: true,
          warning: true,
          message: `${dev} is not read-write for group gpio (${owner}), so the bellhop service (SupplementaryGroups=gpio) cannot open it; a udev rule fixes that: SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"`,
        },
  );
  return results;
}

function unitCheck(dev: string, unitFile: string): DoctorResult | undefined {
  const unit = readUnitGpioChips(unitFile);
  if (!unit) return undefined;
  if (!unit.privateDevices) return { ok: true, message: `the installed unit ${unitFile} does not restrict /dev (no PrivateDevices=yes)` };
  if (unit.allowed.length === 1 && unit.allowed[0] === dev) {
    return { ok: true, message: `the installed unit ${unitFile} lets the agent open exactly ${dev} (PrivateDevices=yes, BindPaths=, DeviceAllow=)` };
  }
  const allows = unit.allowed.length > 0 ? unit.allowed.join(', ') : 'no GPIO chip';
  return {
    ok: false,
    message: `the installed unit ${unitFile} allows ${allows}, not ${dev} (a kernel update can renumber the chips): run "sudo bellhop install-service agent" again`,
  };
}

function groupName(gid: number, file: string): string {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === gid) return name;
    }
  } catch {
    // No group file: the number is all there is to say.
  }
  return String(gid);
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function isOpenable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'this user';
  }
}

export const gpioSection: DoctorSection = {
  name: 'bell pin',
  applies: (config: Config) => ['onoff', 'gpiod', 'auto'].includes(config.device.gpio.driver),
  run: (config: Config) => gpioChecks(config.device.gpio),
};
