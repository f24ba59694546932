// The lifecycle every bellhop part follows (after Zigbee2MQTT's extensions):
// the constructor only stores collaborators, start() subscribes and starts
// timers, stop() removes every listener and clears every timer.
export interface Part {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Called once when the part cannot go on (a refused login): the runner stops everything and exits non-zero, so systemd takes over. */
  onFatal?(listener: (err: Error) => void): void;
}

/** A part's "cannot go on": raised once, heard by every listener, also one that comes late. */
export class FatalSignal {
  #listeners: Array<(err: Error) => void> = [];
  #error: Error | undefined;

  on(listener: (err: Error) => void): void {
    this.#listeners.push(listener);
    if (this.#error) listener(this.#error);
  }

  raise(err: Error): void {
    if (this.#error) return;
    this.#error = err;
    for (const listener of this.#listeners) listener(err);
  }
}

export async function stopAll(parts: readonly Part[]): Promise<void> {
  for (const part of [...parts].reverse()) {
    try {
      await part.stop();
    } catch {
      // One part failing to stop must not leave the others (the bell pin!) running.
    }
  }
}
