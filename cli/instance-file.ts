// Where a running bellhop listens, kept in its data folder (<dataDir>/run/<part>.json) so
// `bellhop emit` and `bellhop doctor` on the same machine find its ports (port 0, a
// BELLHOP_HTTP_PORT given only to the service) instead of assuming 8080 and 1883.
// Written once the part listens, removed when it stops; a file left by a killed process
// is recognised by its pid and ignored.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Part } from '../shared/part.js';

export type InstanceKind = 'server' | 'broker';

export interface Instance {
  pid: number;
  url: string;
  startedAt: string;
}

const fileOf = (dataDir: string, kind: InstanceKind) => join(dataDir, 'run', `${kind}.json`);

/** The running instance of that part on this data folder, if its process is alive. */
export function findInstance(dataDir: string, kind: InstanceKind): Instance | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(fileOf(dataDir, kind), 'utf8'));
  } catch {
    return undefined;
  }
  const v = value as Partial<Instance>;
  if (typeof v.pid !== 'number' || typeof v.url !== 'string' || typeof v.startedAt !== 'string') return undefined;
  return alive(v.pid) ? { pid: v.pid, url: v.url, startedAt: v.startedAt } : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, only not ours to signal (a service running as another user).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A part that writes the file at start and removes it at stop; start it after the parts it names. */
export class InstanceFile implements Part {
  readonly name = 'instance-file';
  #dataDir: string;
  #entries: Array<[InstanceKind, () => string]>;
  #written: string[] = [];

  constructor(dataDir: string, entries: Array<[InstanceKind, () => string]>) {
    this.#dataDir = dataDir;
    this.#entries = entries;
  }

  async start(): Promise<void> {
    mkdirSync(join(this.#dataDir, 'run'), { recursive: true });
    for (const [kind, url] of this.#entries) {
      const file = fileOf(this.#dataDir, kind);
      const instance: Instance = { pid: process.pid, url: url(), startedAt: new Date().toISOString() };
      writeFileSync(file, `${JSON.stringify(instance)}\n`);
      this.#written.push(file);
    }
  }

  async stop(): Promise<void> {
    for (const file of this.#written.splice(0)) rmSync(file, { force: true });
  }
}
