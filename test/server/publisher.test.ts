// The publisher tells the two publish failures apart: nothing was sent (503) or sent and
// not confirmed (504). A fake MQTT client plays each case exactly.
import { describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { BrokerUnavailableError, EventPublisher, PublishUnconfirmedError } from '../../server/publisher.js';
import { toEnvelope } from '../../shared/envelope.js';
import { Topics } from '../../shared/topics.js';

type Callback = (err?: Error) => void;

/** An MQTT client whose publishes wait for the test to answer them. */
function fakeClient() {
  const sent: Array<{ topic: string; callback: Callback }> = [];
  const client = {
    connected: true,
    outgoing: {} as Record<string, unknown>,
    publish(topic: string, _payload: string, _opts: unknown, callback: Callback) {
      sent.push({ topic, callback });
    },
    removeOutgoingMessage() {},
  };
  return { client, sent, mqtt: client as unknown as MqttClient };
}

const event = () => toEnvelope({ type: 'user.signup' }, { source: 'test' });
const nextTurn = () => new Promise((r) => setImmediate(r));

describe('the event publisher', () => {
  it('resolves on the acknowledgement', async () => {
    const { sent, mqtt } = fakeClient();
    const publishing = new EventPublisher(mqtt, new Topics('bellhop'), 1000).publish(event());
    await nextTurn();
    sent[0]!.callback();
    await expect(publishing).resolves.toBeUndefined();
  });

  it('refuses as unavailable, sending nothing, when not connected', async () => {
    const { client, sent, mqtt } = fakeClient();
    client.connected = false;
    await expect(new EventPublisher(mqtt, new Topics('bellhop'), 1000).publish(event())).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(sent).toHaveLength(0);
  });

  it('refuses as unavailable, sending nothing, when the connection drops before the publish goes out', async () => {
    const { client, sent, mqtt } = fakeClient();
    const publishing = new EventPublisher(mqtt, new Topics('bellhop'), 1000).publish(event());
    client.connected = false;
    await expect(publishing).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(sent).toHaveLength(0);
  });

  it('refuses as unavailable when the broker itself refuses the publish (an MQTT 5 reason code)', async () => {
    const { sent, mqtt } = fakeClient();
    const publishing = new EventPublisher(mqtt, new Topics('bellhop'), 1000).publish(event());
    await nextTurn();
    sent[0]!.callback(Object.assign(new Error('Publish error: Not authorized'), { code: 0x87 }));
    await expect(publishing).rejects.toBeInstanceOf(BrokerUnavailableError);
  });

  it('calls a publish unconfirmed when no acknowledgement comes within the timeout', async () => {
    const { mqtt } = fakeClient();
    const started = Date.now();
    const err = await new EventPublisher(mqtt, new Topics('bellhop'), 200).publish(event()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishUnconfirmedError);
    expect((err as Error).message).toMatch(/within 200 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('calls a publish unconfirmed when the connection closes after it was sent', async () => {
    const { sent, mqtt } = fakeClient();
    const publishing = new EventPublisher(mqtt, new Topics('bellhop'), 1000).publish(event());
    await nextTurn();
    sent[0]!.callback(new Error('Connection closed'));
    await expect(publishing).rejects.toBeInstanceOf(PublishUnconfirmedError);
  });
});
