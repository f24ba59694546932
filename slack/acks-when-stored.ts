// The sink's MQTT intake: each message is taken at once, its PUBACK held back until the
// outbox has it on disk. mqtt.js reads a connection's next message only once the last one's
// PUBACK is written (its handleMessage callback sends it), so waiting there for the outbox
// would make every event pay a whole sync of its own (5-20 ms on an SD card) and leave the
// outbox's group commit nothing to group. The held PUBACKs still go out in the order their
// messages came (MQTT 3.1.1 §4.6.0); one whose message could not be stored, or whose
// connection closed meanwhile, is never sent, so the broker hands that message over again.
//
// It wraps mqtt.js' private `_sendPacket` (mqtt is pinned exactly; patched-internals.test.ts
// checks the method and that a PUBACK goes through it).
import type { IPublishPacket, MqttClient, Packet } from 'mqtt';

type Send = (packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

/**
 * Hands every message to `handle`, which must start its outbox transaction before its first
 * await (the order of the transactions is the order of the messages) and resolve once the
 * message is stored; `onError` hears of each one that could not be.
 */
export function ackWhenStored(
  client: MqttClient,
  handle: (packet: IPublishPacket) => Promise<void>,
  onError: (err: Error, packet: IPublishPacket) => void,
): { drained: () => Promise<void> } {
  const internals = client as unknown as { _sendPacket: Send };
  const send = internals._sendPacket.bind(client) as Send;
  /** Per message id of the current connection: resolves true once stored, false if it failed. */
  const stored = new Map<number, Promise<boolean>>();
  let connection = 0;
  let tail: Promise<unknown> = Promise.resolve();
  client.on('close', () => {
    connection += 1;
    stored.clear();
  });
  internals._sendPacket = (packet, cb, ...rest) => {
    const held = packet.cmd === 'puback' && packet.messageId !== undefined ? stored.get(packet.messageId) : undefined;
    if (!held) return send(packet, cb, ...rest);
    stored.delete(packet.messageId!);
    const on = connection;
    tail = tail
      .then(() => held)
      .then((ok) => {
        if (ok && on === connection && client.connected) send(packet);
      });
    // The next message is read now, not once this one is on disk.
    cb?.();
  };
  client.handleMessage = (packet, done) => {
    const publish = packet as IPublishPacket;
    const result = handle(publish).then(
      () => true,
      (err: unknown) => {
        onError(err as Error, publish);
        return false;
      },
    );
    if (publish.qos === 1 && publish.messageId !== undefined) {
      stored.set(publish.messageId, result);
      done();
    } else {
      // QoS 0 needs no ack; QoS 2 (which the sink never subscribes with) keeps mqtt.js' own order.
      void result.then((ok) => (ok ? done() : done(new Error('not stored'))));
    }
    tail = tail.then(() => result);
  };
  return { drained: () => tail.then(() => undefined) };
}
