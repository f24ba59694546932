// The fake libgpiod tools of test/fixtures/libgpiod (1.6 in v1/, 2.x in v2/) put first
// on PATH, and what their "kernel" recorded: every run's argv, every level a line was
// driven to with its time, who held it. See test/fixtures/libgpiod/lib.sh.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/world.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/libgpiod', import.meta.url));

export interface FakeChip {
  name: string;
  label: string;
  lines: number;
  /** Names its lines GPIO0, GPIO1... as the Raspberry Pi device trees do. */
  named?: boolean;
}

/** What `gpiodetect` lists on real boards; the chip numbers are whatever the kernel made them. */
export const CHARDEV_BOARDS = {
  /** Pi 5 on kernel 6.6.47 and later: RP1 is gpiochip0, the SoC's chips follow. */
  pi5: [
    { name: 'gpiochip0', label: 'pinctrl-rp1', lines: 54, named: true },
    { name: 'gpiochip10', label: 'gpio-brcmstb@107d508500', lines: 32 },
    { name: 'gpiochip11', label: 'gpio-brcmstb@107d508520', lines: 4 },
    { name: 'gpiochip12', label: 'gpio-brcmstb@107d517c00', lines: 17 },
    { name: 'gpiochip13', label: 'gpio-brcmstb@107d517c20', lines: 6 },
  ],
  /** Pi 5 before 6.6.47: RP1 was gpiochip4. */
  'pi5-early': [
    { name: 'gpiochip0', label: 'gpio-brcmstb@107d508500', lines: 32 },
    { name: 'gpiochip1', label: 'gpio-brcmstb@107d508520', lines: 4 },
    { name: 'gpiochip2', label: 'gpio-brcmstb@107d517c00', lines: 17 },
    { name: 'gpiochip3', label: 'gpio-brcmstb@107d517c20', lines: 6 },
    { name: 'gpiochip4', label: 'pinctrl-rp1', lines: 54, named: true },
  ],
  pi4: [
    { name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58, named: true },
    { name: 'gpiochip1', label: 'raspberrypi-exp-gpio', lines: 8 },
  ],
  /** Pi 3 and Zero 2 W. */
  pi3: [
    { name: 'gpiochip0', label: 'pinctrl-bcm2835', lines: 54, named: true },
    { name: 'gpiochip1', label: 'raspberrypi-exp-gpio', lines: 8 },
  ],
} satisfies Record<string, FakeChip[]>;

export type LibgpiodMajor = 1 | 2;

export interface Run {
  atMs: number;
  tool: string;
  args: string[];
}

export interface LevelChange {
  atMs: number;
  chip: string;
  offset: number;
  level: 0 | 1;
  pid: number;
  bias: string;
}

export interface FakeLibgpiodOptions {
  /** Where the tools look for chip nodes; default a dev/ folder of the fake's own. */
  devDir?: string;
  /** Leave the lines unnamed (the line is then found by the chip's label). */
  unnamed?: boolean;
}

export class FakeLibgpiod {
  readonly dir: string;
  readonly major: LibgpiodMajor;
  readonly remove: () => void;
  #devDir: string | undefined;

  constructor(major: LibgpiodMajor, chips: readonly FakeChip[], opts: FakeLibgpiodOptions = {}) {
    const dir = tempDir(`bellhop-libgpiod${major}-`);
    this.dir = dir.path;
    this.remove = dir.remove;
    this.major = major;
    this.#devDir = opts.devDir;
    writeFileSync(join(this.dir, 'chips'), chips.map((c) => `${c.name} ${c.label} ${c.lines}\n`).join(''));
    const names = opts.unnamed ? [] : chips.filter((c) => c.named).flatMap((c) => Array.from({ length: c.lines }, (_, i) => `${c.name} ${i} GPIO${i}\n`));
    writeFileSync(join(this.dir, 'names'), names.join(''));
    writeFileSync(join(this.dir, 'log'), '');
    if (!opts.devDir) {
      mkdirSync(join(this.dir, 'dev'));
      for (const c of chips) writeFileSync(join(this.dir, 'dev', c.name), '');
    }
  }

  /** The fake chips' nodes, for the interface probe. */
  get devDir(): string {
    return this.#devDir ?? join(this.dir, 'dev');
  }

  /** PATH with this version's tools first, and the fake kernel's state folder. */
  env(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
    const env: Record<string, string> = {
      PATH: `${join(FIXTURES, `v${this.major}`)}:${base.PATH ?? '/usr/bin:/bin'}`,
      FAKE_GPIO_DIR: this.dir,
    };
    if (this.#devDir) env.FAKE_GPIO_DEV = this.#devDir;
    return env;
  }

  #lines(): string[][] {
    return readFileSync(join(this.dir, 'log'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
  }

  runs(tool?: string): Run[] {
    return this.#lines()
      .filter((f) => f[1] === 'run' && (tool === undefined || f[2] === tool))
      .map((f) => ({ atMs: Number(BigInt(f[0]!) / 1000n) / 1000, tool: f[2]!, args: f.slice(3) }));
  }

  changes(chip?: string, offset?: number): LevelChange[] {
    return this.#lines()
      .filter((f) => f[1] === 'set')
      .map((f) => ({ atMs: Number(BigInt(f[0]!) / 1000n) / 1000, chip: f[2]!, offset: Number(f[3]), level: (f[4] === '1' ? 1 : 0) as 0 | 1, pid: Number(f[5]), bias: f[6]!.slice(5) }))
      .filter((c) => (chip === undefined || c.chip === chip) && (offset === undefined || c.offset === offset));
  }

  /** The physical level the line has now (kept after release, as on a Raspberry Pi kernel). */
  level(chip: string, offset: number): 0 | 1 | undefined {
    const file = join(this.dir, `level.${chip}.${offset}`);
    return existsSync(file) ? (readFileSync(file, 'utf8').trim() === '1' ? 1 : 0) : undefined;
  }

  /**
   * Periods at `active` level, from the change to it to the next change away from it.
   * `sinceRunMs` counts from the gpioset run that drove it active: the time the agent held
   * the strike, of which the tool's start-up (slow for these shell fakes on a busy machine)
   * is not yet high.
   */
  pulses(chip: string, offset: number, active: 0 | 1 = 1): Array<{ ms: number; sinceRunMs: number; startPid: number; endPid: number }> {
    const out: Array<{ ms: number; sinceRunMs: number; startPid: number; endPid: number }> = [];
    const runs = this.runs('gpioset');
    let start: LevelChange | undefined;
    for (const c of this.changes(chip, offset)) {
      if (c.level === active && !start) start = c;
      else if (c.level !== active && start) {
        const began = start.atMs;
        const run = runs.filter((r) => r.atMs <= began).at(-1);
        out.push({ ms: c.atMs - began, sinceRunMs: c.atMs - (run?.atMs ?? began), startPid: start.pid, endPid: c.pid });
        start = undefined;
      }
    }
    return out;
  }
}
