// The mute state: retained on devices/<id>/mute and devices/all/mute as
// {until: ISO | null}. The bell is muted while either is in the future. The
// last state is also kept on disk, because after a restart the broker hands
// over queued events before the retained mute arrives.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../shared/logger.js';
import type { MuteState } from '../shared/messages.js';

export type MuteScope = 'device' | 'all';

export class MuteTracker {
  #until = new Map<MuteScope, number>();
  #file: string | undefined;
  #log: Logger;

  constructor(file: string | undefined, logger: Logger) {
    this.#file = file;
    this.#log = logger;
  }

  /** Reads the state saved by the last run, if any. */
  load(): void {
    if (!this.#file) return;
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(this.#file, 'utf8'));
    } catch {
      return; // First run, or a damaged file: the retained message will tell.
    }
    if (typeof saved !== 'object' || saved === null) return;
    for (const scope of ['device', 'all'] as const) {
      const until = Date.parse(String((saved as Record<string, unknown>)[scope]));
      if (!Number.isNaN(until)) this.#until.set(scope, until);
    }
  }

  /** Applies a mute message; returns true when it changed anything. */
  set(scope: MuteScope, state: MuteState): boolean {
    const until = state.until === null ? undefined : Date.parse(state.until);
    if (until !== undefined && Number.isNaN(until)) {
      this.#log.warn({ scope, until: state.until }, 'ignored a mute message whose "until" is not a date');
      return false;
    }
    if (this.#until.get(scope) === until) return false;
    if (until === undefined) this.#until.delete(scope);
    else this.#until.set(scope, until);
    this.#log.info({ scope, until: state.until, by: state.by }, until === undefined ? 'unmuted' : 'muted');
    this.#save();
    return true;
  }

  isMuted(now: number): boolean {
    return this.mutedUntil(now) !== undefined;
  }

  /** When the mute in force ends (the later of the two), or undefined. */
  mutedUntil(now: number): number | undefined {
    let latest: number | undefined;
    for (const until of this.#until.values()) if (until > now && (latest === undefined || until > latest)) latest = until;
    return latest;
  }

  #save(): void {
    if (!this.#file) return;
    const body = Object.fromEntries([...this.#until].map(([scope, until]) => [scope, new Date(until).toISOString()]));
    try {
      mkdirSync(dirname(this.#file), { recursive: true });
      writeFileSync(`${this.#file}.tmp`, JSON.stringify(body));
      renameSync(`${this.#file}.tmp`, this.#file);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, file: this.#file }, 'could not save the mute state; it is kept in memory');
    }
  }
}
