// The lifecycle every bellhop part follows (after Zigbee2MQTT's extensions):
// the constructor only stores collaborators, start() subscribes and starts
// timers, stop() removes every listener and clears every timer.
export interface Part {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
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
