// `bellhop doctor` runs every check section in turn; each section lives in its own
// module in this folder and is listed in cli/commands/doctor.ts.
import type { Config } from '../../shared/config/schema.js';

export interface DoctorResult {
  ok: boolean;
  /** Passes, but something recommended is missing (printed as "warn"). */
  warning?: boolean;
  /** One line, in plain words: what was found, or what is wrong and how to fix it. */
  message: string;
}

export interface DoctorSection {
  name: string;
  /** False to skip the section for this config (e.g. Slack with no token set). */
  applies(config: Config): boolean;
  run(config: Config): Promise<DoctorResult[]>;
}

/** One result as the line `bellhop doctor` prints. */
export function resultLine(r: DoctorResult): string {
  return `  ${!r.ok ? 'FAIL' : r.warning ? 'warn' : 'ok  '} ${r.message}`;
}
