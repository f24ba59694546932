// The messages queued for each durable session, in memory, indexed both ways aedes asks:
// by the message (brokerId:brokerCounter, when it is sent) and by packet id (when it is
// acknowledged). aedes-persistence keeps one array per session and scans it on every send
// and every PUBACK, so a subscriber that falls behind by n messages costs n per message.
import { Readable } from 'node:stream';
import type { StoredPacket } from 'aedes-persistence/asyncPersistence.js';

interface Queue {
  // Insertion order is delivery order; a value may become the PUBREL of a QoS 2 delivery.
  byMessage: Map<string, StoredPacket>;
  byPacketId: Map<number, string>;
}

const messageKey = (p: { brokerId?: string | null | undefined; brokerCounter?: number | undefined }) => `${p.brokerId}:${p.brokerCounter}`;

export class SessionQueues {
  #queues = new Map<string, Queue>();

  #queue(clientId: string): Queue {
    let q = this.#queues.get(clientId);
    if (!q) this.#queues.set(clientId, (q = { byMessage: new Map(), byPacketId: new Map() }));
    return q;
  }

  /** Queues a copy; false when this session already holds that message (overlapping subscriptions). */
  enqueue(clientId: string, packet: StoredPacket): boolean {
    const q = this.#queue(clientId);
    const key = messageKey(packet);
    if (q.byMessage.has(key)) return false;
    // A copy: aedes numbers the one it sends (messageId) per session.
    q.byMessage.set(key, { ...packet, messageId: undefined });
    return true;
  }

  /**
   * Records the packet id a queued message is sent with, or, for a PUBREL (QoS 2, after
   * PUBREC), puts it in the place of its PUBLISH. Returns the PUBLISH a PUBREL replaced: the
   * subscriber has stored it, so it no longer owes it.
   */
  update(clientId: string, packet: StoredPacket): { found: boolean; replaced?: StoredPacket } {
    const q = this.#queue(clientId);
    const key = messageKey(packet);
    const queued = packet.brokerId ? q.byMessage.get(key) : undefined;
    if (queued) {
      if (queued.messageId !== undefined && q.byPacketId.get(queued.messageId) === key) q.byPacketId.delete(queued.messageId);
      queued.messageId = packet.messageId;
      if (packet.messageId !== undefined) q.byPacketId.set(packet.messageId, key);
      return { found: true };
    }
    const heldKey = packet.messageId === undefined ? undefined : q.byPacketId.get(packet.messageId);
    const held = heldKey === undefined ? undefined : q.byMessage.get(heldKey);
    if (heldKey === undefined || !held) return { found: false };
    q.byMessage.set(heldKey, packet);
    return held.cmd === 'publish' && packet.cmd !== 'publish' ? { found: true, replaced: held } : { found: true };
  }

  /** Removes what was sent with `messageId` (acknowledged, or dropped for a clean session). */
  clear(clientId: string, messageId: number | undefined): StoredPacket | undefined {
    const q = this.#queues.get(clientId);
    if (!q) return undefined;
    let key = messageId === undefined ? undefined : q.byPacketId.get(messageId);
    // aedes clears a clean session's queue packet by packet; some were never sent (no id).
    if (key === undefined && messageId === undefined) key = [...q.byMessage].find(([, p]) => p.messageId === undefined)?.[0];
    if (key === undefined) return undefined;
    const packet = q.byMessage.get(key);
    q.byMessage.delete(key);
    if (messageId !== undefined) q.byPacketId.delete(messageId);
    if (q.byMessage.size === 0) this.#queues.delete(clientId);
    return packet;
  }

  /** A snapshot of the queue, oldest first (aedes sends it on reconnect). */
  stream(clientId: string): Readable {
    return Readable.from([...(this.#queues.get(clientId)?.byMessage.values() ?? [])]);
  }
}
