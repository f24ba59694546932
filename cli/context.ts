// What every command needs: the checked config and a logger. Logs go to stderr; stdout is
// kept for the lines meant for people.
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { loadConfig } from '../shared/config/load.js';
import type { Config } from '../shared/config/schema.js';
import { pino, type DestinationStream } from 'pino';
import { createLogger, type Logger } from '../shared/logger.js';

export const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export function setup(cmd: Command): { config: Config; logger: Logger } {
  type Flags = { config?: string; logFormat?: Config['log']['format']; logLevel?: Config['log']['level'] };
  const { config: file, logFormat, logLevel } = cmd.optsWithGlobals<Flags>();
  const log: Partial<Config['log']> = { ...(logFormat ? { format: logFormat } : {}), ...(logLevel ? { level: logLevel } : {}) };
  const loaded = loadConfig({ file, ...(logFormat || logLevel ? { overrides: { log } } : {}) });
  // A flag wins over BELLHOP_LOG_* too (commander has checked its value against the choices).
  const config = { ...loaded, log: { ...loaded.log, ...log } };
  return { config, logger: createLogger(config.log.level, destination(config.log.format)) };
}

function destination(format: Config['log']['format']): DestinationStream {
  // JSON for machines (the journal, a pipe: one parseable line each); for a person at a
  // terminal, one short coloured line instead of epoch-ms JSON between the banner's lines.
  if (format === 'pretty' || (format === 'auto' && process.stderr.isTTY)) return prettyStream();
  // Asynchronous writes: a line per event must not cost a blocking syscall per event
  // (the Runner flushes before exiting).
  return pino.destination({ dest: 2, sync: false });
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

function prettyStream(): DestinationStream {
  // Loaded only here, and synchronously (setup() is sync): a Pi's agent under systemd never pays for it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as PrettyFactory;
  return pretty({
    destination: 2,
    colorize: process.stderr.isTTY,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,part',
    messageFormat: '{if part}{part}: {end}{msg}',
    singleLine: true,
  });
}
