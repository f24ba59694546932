// aedes-persistence's in-memory engine, subclassed by broker/sessions.ts. The package's own
// types describe its older callback API; these are the async methods aedes 1.x calls.
declare module 'aedes-persistence/asyncPersistence.js' {
  import type { Readable } from 'node:stream';

  export interface StoredPacket {
    cmd: string;
    brokerId?: string | null;
    brokerCounter?: number;
    topic: string;
    payload: Buffer;
    qos: 0 | 1 | 2;
    retain: boolean;
    dup?: boolean;
    messageId?: number;
    clientId?: string;
    properties?: Record<string, unknown>;
    [key: string]: unknown;
  }
  export interface SessionClient {
    id: string;
  }
  export interface StoredSubscription {
    topic: string;
    qos: 0 | 1 | 2;
    rh?: number;
    rap?: boolean;
    nl?: boolean;
    subscriptionIdentifier?: number;
  }
  export interface TopicSubscription {
    clientId: string;
    topic: string;
    qos: 0 | 1 | 2;
  }

  export default class MemoryPersistence {
    constructor(opts?: { broadcastSubscriptions?: boolean });
    setup(broker: unknown): Promise<void>;
    storeRetained(packet: StoredPacket): Promise<void>;
    createRetainedStream(pattern: string): Readable;
    createRetainedStreamCombi(patterns: string[]): Readable;
    addSubscriptions(client: SessionClient, subs: StoredSubscription[]): Promise<void>;
    removeSubscriptions(client: SessionClient, topics: string[]): Promise<void>;
    subscriptionsByClient(client: SessionClient): Promise<StoredSubscription[]>;
    subscriptionsByTopic(topic: string): Promise<TopicSubscription[]>;
    cleanSubscriptions(client: SessionClient): Promise<void>;
    outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void>;
    outgoingEnqueueCombi(subs: Array<{ clientId: string; qos?: number }>, packet: StoredPacket): Promise<void>;
    outgoingUpdate(client: SessionClient, packet: StoredPacket): Promise<void>;
    outgoingClearMessageId(client: SessionClient, packet: { messageId?: number }): Promise<StoredPacket | undefined>;
    outgoingStream(client: SessionClient): Readable;
    incomingGetPacket(client: SessionClient, packet: { messageId?: number }): Promise<StoredPacket>;
    putWill(client: SessionClient, packet: StoredPacket): Promise<void>;
    getWill(client: SessionClient): Promise<StoredPacket | undefined>;
    delWill(client: SessionClient): Promise<StoredPacket | undefined>;
    streamWill(brokers?: Record<string, unknown>): Readable;
    destroy(): Promise<void>;
  }
}
