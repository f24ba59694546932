// Runs parts until a signal: stops them in reverse order on SIGINT/SIGTERM, and on
// an uncaught error drives every bell pin low before exiting.
import type { Logger } from '../shared/logger.js';
import { startAll, stopAll, type Part } from '../shared/part.js';

export interface RunOptions {
  /** Synchronous pin-low hooks for the crash path. */
  emergency?: Array<() => void>;
}

export async function runParts(parts: Part[], logger: Logger, opts: RunOptions = {}): Promise<void> {
  let stopping = false;
  const emergency = () => {
    for (const low of opts.emergency ?? []) low();
  };
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'stopping');
    emergency();
    const timer = setTimeout(() => process.exit(code || 1), 5000);
    timer.unref();
    await stopAll(parts);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('uncaughtException', (err) => {
    emergency();
    logger.fatal({ err }, 'uncaught error');
    void shutdown('uncaught error', 1);
  });
  process.on('unhandledRejection', (err) => {
    emergency();
    logger.fatal({ err }, 'unhandled rejection');
    void shutdown('unhandled rejection', 1);
  });
  try {
    await startAll(parts);
  } catch (err) {
    emergency();
    throw err;
  }
}
