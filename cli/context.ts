// What every command needs: the checked config and a logger. JSON logs go to
// stderr; stdout is kept for the lines meant for people.
import type { Command } from 'commander';
import { loadConfig } from '../shared/config/load.js';
import type { Config } from '../shared/config/schema.js';
import { pino } from 'pino';
import { createLogger, type Logger } from '../shared/logger.js';

export const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export function setup(cmd: Command): { config: Config; logger: Logger } {
  const { config: file } = cmd.optsWithGlobals<{ config?: string }>();
  const config = loadConfig({ file });
  // Asynchronous writes: a line per event must not cost a blocking syscall per event
  // (the Runner flushes before exiting).
  return { config, logger: createLogger(config.log.level, pino.destination({ dest: 2, sync: false })) };
}
