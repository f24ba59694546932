// Which character-device line is the bell's BCM pin. Chip numbers are not stable (the
// Pi 5's RP1 went from gpiochip4 to gpiochip0 in kernel 6.6.47) so none is written down
// anywhere: the line is found by its device-tree name ("GPIO17") on the header's chip,
// else by the header chip's label with the BCM number as the offset (the header chips
// number their lines in BCM order).
import { findHeaderChip, GpioSetupError } from './chips.js';
import { detectVersion, findLineByName, listChips, type CharChip, type LibgpiodVersion, type LineAddress, type ToolOptions } from './libgpiod-tools.js';

export interface ResolvedLine extends LineAddress {
  /** The chip the line is on, as gpiodetect listed it. */
  chipInfo: CharChip;
  foundBy: 'name' | 'label';
  version: LibgpiodVersion;
}

export const lineName = (bcmPin: number): string => `GPIO${bcmPin}`;

export function resolveLine(bcmPin: number, opts: ToolOptions & { version?: LibgpiodVersion } = {}): ResolvedLine {
  const version = opts.version ?? detectVersion(opts);
  const chips = listChips(opts);
  const header = findHeaderChip(chips);
  const name = lineName(bcmPin);
  const byName = findLineByName(version, name, header?.name, opts);
  const named = byName ? chips.find((c) => c.name === byName.chip) : undefined;
  // A name on some other chip than the header's is not the header pin (1.6's gpiofind
  // searches every chip): the label wins then.
  if (byName && named && (!header || named === header)) return { ...byName, chipInfo: named, foundBy: 'name', version };
  if (header) {
    if (bcmPin >= header.lines) throw new GpioSetupError(`BCM pin ${bcmPin} does not exist on ${describeChardevChip(header)}`);
    return { chip: header.name, offset: bcmPin, chipInfo: header, foundBy: 'label', version };
  }
  const found = chips.length > 0 ? chips.map(describeChardevChip).join('; ') : 'no GPIO chips at all (is this user allowed to open /dev/gpiochip*?)';
  throw new GpioSetupError(`no line named ${name} and no Raspberry Pi GPIO chip among the character devices (found: ${found})`);
}

export function describeChardevChip(chip: CharChip): string {
  return `${chip.label} (${chip.name}, ${chip.lines} lines)`;
}

export function describeLine(line: ResolvedLine): string {
  const named = line.foundBy === 'name' ? ` "${line.name}"` : '';
  return `line ${line.offset}${named} of ${describeChardevChip(line.chipInfo)}, found by ${line.foundBy === 'name' ? 'name' : 'chip label'}`;
}
