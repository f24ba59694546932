// Each soak scenario leaves its figures in test-output/soak/<scenario>.json and prints
// them as one line; the reporter (figures-reporter.ts) gathers them into one JSON line
// at the end of the run.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIGURES_DIR = fileURLToPath(new URL('../../test-output/soak/', import.meta.url));

export type Figures = Record<string, number | string | boolean>;

export function recordFigures(scenario: string, figures: Figures): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  writeFileSync(`${FIGURES_DIR}${scenario}.json`, `${JSON.stringify(figures)}\n`);
  console.log(figureLine(scenario, figures));
}

export function figureLine(scenario: string, figures: Figures): string {
  return `[soak] ${scenario}: ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/** Forgets the figures of an earlier run, so the final line never mixes runs. */
export function clearFigures(): void {
  rmSync(FIGURES_DIR, { recursive: true, force: true });
  mkdirSync(FIGURES_DIR, { recursive: true });
}

export function readFigures(): Record<string, Figures> {
  const all: Record<string, Figures> = {};
  let files: string[];
  try {
    files = readdirSync(FIGURES_DIR).filter((f) => f.endsWith('.json') && f !== 'all.json');
  } catch {
    return all;
  }
  for (const f of files.sort()) all[f.slice(0, -'.json'.length)] = JSON.parse(readFileSync(`${FIGURES_DIR}${f}`, 'utf8')) as Figures;
  return all;
}

export function writeAll(all: Record<string, Figures>): void {
  writeFileSync(`${FIGURES_DIR}all.json`, `${JSON.stringify(all)}\n`);
}
