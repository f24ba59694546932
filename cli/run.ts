// Runs parts until a signal: stops them in reverse order on SIGINT/SIGTERM, and on
// an uncaught error drives every bell pin low before exiting.
import type { Logger } from '../shared/logger.js';
import { stopAll, type Part } from '../shared/part.js';

export class Runner {
  #parts: Part[] = [];
  #emergency: Array<() => void> = [];
  #log: Logger;
  #stopping = false;

  constructor(logger: Logger) {
    this.#log = logger;
    process.on('SIGINT', () => void this.#shutdown('SIGINT', 0));
    process.on('SIGTERM', () => void this.#shutdown('SIGTERM', 0));
    process.on('uncaughtException', (err) => this.#crash(err, 'uncaught error'));
    process.on('unhandledRejection', (err) => this.#crash(err, 'unhandled rejection'));
  }

  /** A synchronous pin-low hook for the crash path. */
  onEmergency(low: () => void): void {
    this.#emergency.push(low);
  }

  /** Starts a part; if it fails, stops the ones already running and rethrows. */
  async start(part: Part): Promise<void> {
    part.onFatal?.((err) => this.#fail(part.name, err));
    try {
      await part.start();
    } catch (err) {
      this.#lowAll();
      // The failed part too: what it opened before failing (its broker client) must not
      // outlive it and log the others going away as problems of its own.
      await stopAll([...this.#parts, part]);
      throw err;
    }
    this.#parts.push(part);
  }

  #lowAll(): void {
    for (const low of this.#emergency) low();
  }

  #crash(err: unknown, why: string): void {
    this.#lowAll();
    this.#log.fatal({ err }, why);
    this.#log.flush();
    void this.#shutdown(why, 1);
  }

  /** A part that cannot go on: one line that says what to fix (no stack: it is not a bug), then exit 1. */
  #fail(part: string, err: Error): void {
    this.#lowAll();
    this.#log.fatal({ part }, `${err.message}; exiting so the service manager restarts it once that is fixed`);
    this.#log.flush();
    void this.#shutdown(`${part} cannot go on`, 1);
  }

  async #shutdown(why: string, code: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#log.info({ why }, 'stopping');
    this.#lowAll();
    setTimeout(() => process.exit(code || 1), 5000).unref();
    await stopAll(this.#parts);
    this.#log.flush();
    process.exit(code);
  }
}

/** Starts parts in order under one Runner. */
export async function runParts(parts: Part[], logger: Logger, emergency: Array<() => void> = []): Promise<Runner> {
  const runner = new Runner(logger);
  for (const low of emergency) runner.onEmergency(low);
  for (const part of parts) await runner.start(part);
  return runner;
}
