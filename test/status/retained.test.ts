import { describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { RetainedPublisher } from '../../server/status/retained.js';
import { BrokerUnavailableError } from '../../server/publisher.js';
import { HttpError } from '../../server/errors.js';

type Callback = (err?: Error) => void;

/** Just what the publisher touches of an mqtt.js client; the test plays the broker. */
function fakeClient(connected = true) {
  const sent: Array<{ topic: string; payload: string; opts: unknown; callback: Callback }> = [];
  const client = { connected, disconnecting: false, publish: (topic: string, payload: string, opts: unknown, callback: Callback) => sent.push({ topic, payload, opts, callback }) };
  return { client: client as unknown as MqttClient, sent };
}

const TOPIC = 'bellhop/devices/office-bell/mute';
const PAYLOAD = '{"until":null,"by":"status/test"}';

describe('the retained publish behind the mute buttons', () => {
  it('is done once the broker acknowledged it and passed the copy back, in either order', async () => {
    const { client, sent } = fakeClient();
    const publisher = new RetainedPublisher(client, 1000);
    const first = publisher.publish(TOPIC, PAYLOAD);
    expect(sent[0]).toMatchObject({ topic: TOPIC, payload: PAYLOAD, opts: { qos: 1, retain: true } });
    sent[0]!.callback();
    publisher.seen(TOPIC, Buffer.from(PAYLOAD));
    await expect(first).resolves.toBeUndefined();

    const second = publisher.publish(TOPIC, PAYLOAD);
    publisher.seen(TOPIC, Buffer.from(PAYLOAD));
    sent[1]!.callback();
    await expect(second).resolves.toBeUndefined();
  });

  it('says the ACL may be refusing it when the broker acknowledged it but never passed it on (Mosquitto over MQTT 3.1.1)', async () => {
    const { client, sent } = fakeClient();
    const publisher = new RetainedPublisher(client, 50);
    const done = publisher.publish(TOPIC, PAYLOAD);
    sent[0]!.callback();
    publisher.seen(TOPIC, Buffer.from('{"until":null,"by":"someone else"}'));
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ code: 'publish_unconfirmed', statusCode: 504 });
    expect((err as Error).message).toMatch(/acknowledged the mute but did not pass it on within 50 ms: its ACL may not let the server's MQTT user write bellhop\/devices\/office-bell\/mute/);
  });

  it('says it may or may not be in force without an acknowledgement, and nothing changed when the broker refused it or is away', async () => {
    const { client, sent } = fakeClient();
    const publisher = new RetainedPublisher(client, 50);
    await expect(publisher.publish(TOPIC, PAYLOAD)).rejects.toThrow(/did not acknowledge the mute within 50 ms: it may or may not be in force/);

    const refused = publisher.publish(TOPIC, PAYLOAD);
    sent[1]!.callback(Object.assign(new Error('Not authorized'), { code: 0x87 }));
    await expect(refused).rejects.toBeInstanceOf(BrokerUnavailableError);

    await expect(new RetainedPublisher(fakeClient(false).client, 50).publish(TOPIC, PAYLOAD)).rejects.toBeInstanceOf(BrokerUnavailableError);
  });
});
