// `npm run soak`: the fault runs of test/soak/*.soak.ts, one file at a time (each one
// loads both cores and times what it sees), never part of `npm test`. Each file asserts
// its guarantees and leaves its figures; the figures reporter prints them all as one
// JSON line at the end.
import { defineConfig } from 'vitest/config';
import { FiguresReporter } from './test/soak/figures-reporter.js';

export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 60_000,
    // The figure lines are for people watching the run; let them through as they come.
    disableConsoleIntercept: true,
    reporters: ['default', new FiguresReporter()],
  },
});
