// The embedded broker's persistence: aedes' in-memory engine, with what must outlive a
// restart written through the broker's one group-commit writer. Subscriptions of
// persistent sessions, retained messages and wills are written (rarely: a SUBACK, a mute, a
// connect) and awaited. The queues of messages for each session stay in memory: the
// message itself is already on disk in the ingress log, which keeps it until the delivery
// ledger says every session meant to get it has acknowledged it. So the hot path writes
// one entry per message, never one per message per subscriber (aedes-persistence-level
// did about seven LevelDB operations for each delivery to each session).
import { Readable } from 'node:stream';
import { deserialize, serialize } from 'node:v8';
import type { Level } from 'level';
import MemoryPersistence, { type SessionClient, type StoredPacket, type StoredSubscription } from 'aedes-persistence/asyncPersistence.js';
import { sublevelOf, type GroupCommit, type Sublevel } from './group-commit.js';
import type { DeliveryLedger } from './delivery-ledger.js';
import { SessionQueues } from './session-queues.js';

type Store = Level<string, Buffer>;
type Sub = { clientId: string; qos?: number };

export class DurableSessions extends MemoryPersistence {
  #subs: Sublevel;
  #retained: Sublevel;
  #wills: Sublevel;
  #writer: GroupCommit;
  #ledger: DeliveryLedger;
  #queues = new SessionQueues();
  // Sessions with subscriptions on disk, so a clean connect of anyone else writes nothing.
  #saved = new Set<string>();
  // Wills left by an earlier run keep its broker id, so aedes publishes them (that run died).
  #earlierWills = new Map<string, StoredPacket>();

  constructor(db: Store, writer: GroupCommit, ledger: DeliveryLedger) {
    super();
    this.#subs = sublevelOf(db, 'bellhop-sessions');
    this.#retained = sublevelOf(db, 'bellhop-retained');
    this.#wills = sublevelOf(db, 'bellhop-wills');
    this.#writer = writer;
    this.#ledger = ledger;
  }

  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    for await (const [clientId, value] of this.#subs.iterator()) {
      await super.addSubscriptions({ id: clientId }, deserialize(value) as StoredSubscription[]);
      this.#saved.add(clientId);
    }
    for await (const [, value] of this.#retained.iterator()) await super.storeRetained(deserialize(value) as StoredPacket);
    for await (const [clientId, value] of this.#wills.iterator()) this.#earlierWills.set(clientId, deserialize(value) as StoredPacket);
  }

  override async addSubscriptions(client: SessionClient, subs: StoredSubscription[]): Promise<void> {
    await super.addSubscriptions(client, subs);
    await this.#saveSubscriptions(client);
  }

  override async removeSubscriptions(client: SessionClient, topics: string[]): Promise<void> {
    await super.removeSubscriptions(client, topics);
    await this.#saveSubscriptions(client);
  }

  override async cleanSubscriptions(client: SessionClient): Promise<void> {
    await super.cleanSubscriptions(client);
    if (this.#saved.delete(client.id)) await this.#writer.write([{ type: 'del', sublevel: this.#subs, key: client.id }]);
  }

  override async storeRetained(packet: StoredPacket): Promise<void> {
    await super.storeRetained(packet);
    const key = packet.topic;
    await this.#writer.write([
      packet.payload.length === 0
        ? { type: 'del', sublevel: this.#retained, key }
        : { type: 'put', sublevel: this.#retained, key, value: serialize(plain(packet)) },
    ]);
  }

  // aedes caps a delivery at the subscription's QoS only when it is sent, not in the queue of
  // an offline session, whose reconnect would then get QoS 2 for a QoS 1 subscription.
  override async outgoingEnqueueCombi(subs: Sub[], packet: StoredPacket): Promise<void> {
    for (const sub of subs) {
      const qos = Math.min(sub.qos ?? packet.qos, packet.qos) as StoredPacket['qos'];
      this.#enqueue(sub.clientId, qos === packet.qos ? packet : { ...packet, qos });
    }
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void> {
    this.#enqueue(sub.clientId, packet);
  }

  // A message acknowledged while aedes was about to send it again (a reconnect racing a
  // PUBACK) is no longer queued. aedes-persistence throws "no such packet" for it and aedes
  // then drops the client; sending it once more costs nothing (subscribers dedupe by event id).
  override async outgoingUpdate(client: SessionClient, packet: StoredPacket): Promise<void> {
    const { replaced } = this.#queues.update(client.id, packet);
    if (replaced) this.#ledger.release(replaced.brokerId ?? undefined, replaced.brokerCounter, client.id);
  }

  override async outgoingClearMessageId(client: SessionClient, packet: { messageId?: number }): Promise<StoredPacket | undefined> {
    const cleared = this.#queues.clear(client.id, packet.messageId);
    if (cleared?.cmd === 'publish') this.#ledger.release(cleared.brokerId ?? undefined, cleared.brokerCounter, client.id);
    return cleared;
  }

  override outgoingStream(client: SessionClient): Readable {
    return this.#queues.stream(client.id);
  }

  // A QoS 2 PUBLISH that aedes already holds is a retransmission: aedes will not publish it
  // again, so its ingress entry (written when it was authorized) is settled here.
  override async incomingGetPacket(client: SessionClient, packet: { messageId?: number; cmd?: string; brokerId?: string; brokerCounter?: number }): Promise<StoredPacket> {
    const found = await super.incomingGetPacket(client, packet);
    if (packet.cmd === 'publish' && packet.brokerId && packet.brokerCounter) this.#ledger.routed(packet.brokerId, packet.brokerCounter);
    return found;
  }

  override async putWill(client: SessionClient, packet: StoredPacket): Promise<void> {
    await super.putWill(client, packet);
    this.#earlierWills.delete(client.id);
    await this.#writer.write([{ type: 'put', sublevel: this.#wills, key: client.id, value: serialize(plain(packet)) }]);
  }

  override async getWill(client: SessionClient): Promise<StoredPacket | undefined> {
    return (await super.getWill(client)) ?? this.#earlierWills.get(client.id);
  }

  override async delWill(client: SessionClient): Promise<StoredPacket | undefined> {
    const own = await super.delWill(client);
    const earlier = this.#earlierWills.get(client.id);
    this.#earlierWills.delete(client.id);
    const will = own ?? earlier;
    if (will) await this.#writer.write([{ type: 'del', sublevel: this.#wills, key: client.id }]);
    return will;
  }

  override streamWill(brokers: Record<string, unknown> = {}): Readable {
    const own = super.streamWill(brokers);
    const earlier = [...this.#earlierWills.values()].filter((will) => !will.brokerId || !brokers[will.brokerId]);
    return Readable.from(
      (async function* () {
        yield* earlier;
        for await (const will of own) yield will as StoredPacket;
      })(),
    );
  }

  #enqueue(clientId: string, packet: StoredPacket): void {
    if (this.#queues.enqueue(clientId, packet)) this.#ledger.hold(packet.brokerId ?? undefined, packet.brokerCounter, clientId);
  }

  async #saveSubscriptions(client: SessionClient): Promise<void> {
    const subs = await super.subscriptionsByClient(client);
    if (subs.length === 0) {
      if (this.#saved.delete(client.id)) await this.#writer.write([{ type: 'del', sublevel: this.#subs, key: client.id }]);
      return;
    }
    this.#saved.add(client.id);
    await this.#writer.write([{ type: 'put', sublevel: this.#subs, key: client.id, value: serialize(subs) }]);
  }
}

/** What of a packet is kept on disk: its fields, not aedes' class or its delivery state. */
function plain(packet: StoredPacket): StoredPacket {
  const { messageId: _messageId, ...rest } = packet;
  return { ...rest };
}
