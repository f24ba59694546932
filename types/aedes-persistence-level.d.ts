// aedes-persistence-level ships no types; this is the one call bellhop makes.
declare module 'aedes-persistence-level' {
  const factory: (db: unknown) => unknown;
  export default factory;
}

// Read once, to carry an older bellhop's store over (broker/legacy-store.ts).
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { Readable } from 'node:stream';
  export default class AsyncLevelPersistence {
    constructor(db: unknown);
    setup(broker: unknown): Promise<void>;
    createRetainedStream(pattern: string): Readable;
    subscriptionsByClient(client: { id: string }): Promise<Array<{ topic: string; qos: 0 | 1 | 2 }>>;
    outgoingStream(client: { id: string }): Readable;
  }
}
