// The lifecycle every bellhop part follows (after Zigbee2MQTT's extensions):
// the constructor only stores collaborators, start() subscribes and starts
// timers, stop() removes every listener and clears every timer.
export interface Part {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts parts in order; on failure stops the ones already started, in reverse. */
export async function startAll(parts: readonly Part[]): Promise<void> {
  const started: Part[] = [];
  try {
    for (const part of parts) {
      await part.start();
      started.push(part);
    }
  } catch (err) {
    await stopAll(started);
    throw err;
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
