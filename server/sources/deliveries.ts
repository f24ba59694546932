// Remembers which provider deliveries were already published, so a redelivery within
// the TTL is answered 2xx without publishing again. Bounded in memory (oldest forgotten
// first) and, optionally, kept in an append-only file so a restart does not forget:
// providers retry for hours, and a restart in between is exactly when retries come.
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';

export interface DeliveryLogOptions {
  ttlMs: number;
  maxEntries: number;
  clock: Pick<Clock, 'now'>;
  /** Where to keep the log; none keeps it in memory only. */
  file?: string;
  logger?: Logger;
}

export interface DeliveryOutcome {
  duplicate: boolean;
  /** The envelope ids published for this delivery (the first time, for a duplicate). */
  ids: string[];
}

interface Entry {
  expiresAt: number;
  ids: string[];
}

interface Line {
  k: string;
  e: number;
  i: string[];
}

export class DeliveryLog {
  #opts: DeliveryLogOptions;
  // Insertion order is expiry order (constant TTL), so the oldest entry is always first.
  #entries = new Map<string, Entry>();
  #inFlight = new Map<string, Promise<DeliveryOutcome>>();
  #appended = 0;
  #writing: Promise<void> = Promise.resolve();

  constructor(opts: DeliveryLogOptions) {
    this.#opts = opts;
  }

  get size(): number {
    this.#prune();
    return this.#entries.size;
  }

  /** Loads the file (when there is one), dropping expired and surplus entries. */
  async open(): Promise<void> {
    const { file } = this.#opts;
    if (!file) return;
    await mkdir(dirname(file), { recursive: true });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const now = this.#opts.clock.now();
    for (const raw of text.split('\n')) {
      const line = parseLine(raw);
      if (!line || line.e <= now) continue;
      this.#entries.delete(line.k);
      this.#entries.set(line.k, { expiresAt: line.e, ids: line.i });
    }
    this.#evictSurplus();
    await this.#compact();
  }

  /** Waits for pending writes. */
  async close(): Promise<void> {
    await this.#writing;
  }

  has(key: string): boolean {
    this.#prune();
    return this.#entries.has(key);
  }

  /**
   * Runs `publish` unless `key` was delivered within the TTL. A concurrent call for the
   * same key waits for the first; a failed publish is not remembered, so a retry tries again.
   */
  async once(key: string, publish: () => Promise<string[]>): Promise<DeliveryOutcome> {
    for (;;) {
      this.#prune();
      const seen = this.#entries.get(key);
      if (seen) return { duplicate: true, ids: seen.ids };
      const pending = this.#inFlight.get(key);
      if (!pending) break;
      try {
        const first = await pending;
        return { duplicate: true, ids: first.ids };
      } catch {
        // The first attempt failed: loop and try ourselves.
      }
    }
    const attempt = (async (): Promise<DeliveryOutcome> => {
      const ids = await publish();
      this.#remember(key, ids);
      return { duplicate: false, ids };
    })();
    this.#inFlight.set(key, attempt);
    try {
      return await attempt;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  #remember(key: string, ids: string[]): void {
    const expiresAt = this.#opts.clock.now() + this.#opts.ttlMs;
    this.#entries.delete(key);
    this.#entries.set(key, { expiresAt, ids });
    this.#evictSurplus();
    if (!this.#opts.file) return;
    this.#appended++;
    const line = `${JSON.stringify({ k: key, e: expiresAt, i: ids } satisfies Line)}\n`;
    const compactNow = this.#appended > this.#opts.maxEntries;
    this.#queue(() => (compactNow ? this.#compact() : appendFile(this.#opts.file!, line, { mode: 0o600 })));
  }

  #queue(write: () => Promise<void>): void {
    this.#writing = this.#writing.then(write).catch((err: unknown) => {
      // Losing the file only weakens dedup across a restart; the publish itself succeeded.
      this.#opts.logger?.warn({ err: (err as Error).message }, 'could not write the delivery log');
    });
  }

  /** Rewrites the file with the live entries only (atomically, via a rename). */
  async #compact(): Promise<void> {
    const file = this.#opts.file;
    if (!file) return;
    this.#prune();
    this.#appended = 0;
    const text = [...this.#entries].map(([k, v]) => `${JSON.stringify({ k, e: v.expiresAt, i: v.ids } satisfies Line)}\n`).join('');
    await writeFile(`${file}.tmp`, text, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  #prune(): void {
    const now = this.#opts.clock.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(key);
    }
  }

  #evictSurplus(): void {
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#opts.maxEntries) break;
      this.#entries.delete(key);
    }
  }
}

function parseLine(raw: string): Line | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<Line>;
    if (typeof v.k === 'string' && typeof v.e === 'number' && Array.isArray(v.i) && v.i.every((x) => typeof x === 'string')) {
      return v as Line;
    }
  } catch {
    // A torn last line after a crash: skip it.
  }
  return undefined;
}
