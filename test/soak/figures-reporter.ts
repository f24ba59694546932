// Prints every scenario's line of figures again after vitest's summary, then all of them
// as one JSON line: the last line of `npm run soak`, for the table in docs/benchmarks.md and docs/reliability.md.
import type { Reporter } from 'vitest/node';
import { clearFigures, figureLine, readFigures, writeAll } from './figures.js';

export class FiguresReporter implements Reporter {
  onInit(): void {
    clearFigures();
  }

  onTestRunEnd(): void {
    const all = readFigures();
    for (const [scenario, figures] of Object.entries(all)) console.log(figureLine(scenario, figures));
    writeAll(all);
    console.log(JSON.stringify({ soak: all }));
  }
}
