// What a bell's credentials cannot do, checked by effect (nothing arrives), so the same
// tests hold on the embedded broker (which also refuses the SUBSCRIBE or drops the
// client), on Mosquitto with the generated ACL file (which filters on delivery) and on
// RabbitMQ with the generated definitions (which drops the client).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { BrokerPart } from '../../broker/broker.js';
import { connectClient, startBroker, testConfig, waitFor } from '../helpers/world.js';
import { startMosquitto } from '../helpers/mosquitto.js';

const users = [
  { username: 'server', password: 'server-password', role: 'server' },
  { username: 'slack', password: 'slack-password', role: 'slack' },
  { username: 'pi-1', password: 'pi-1-password', role: 'device' },
  { username: 'pi-2', password: 'pi-2-password', role: 'device' },
  { username: 'ops', password: 'ops-password-x', role: 'admin' },
];
const password = (username: string) => users.find((u) => u.username === username)!.password;

describe('what a device\'s broker credentials cannot do', () => {
  let broker: BrokerPart;
  let admin: MqttClient;
  const open: MqttClient[] = [];
  /** Every topic the admin saw, with its payload. */
  const seen: Array<{ topic: string; payload: string; retain: boolean }> = [];
  let controls = 0;

  beforeAll(async () => {
    broker = await startBroker(testConfig({ broker: { users } }));
    admin = await connectClient(broker.url, { username: 'ops', password: password('ops'), clientId: 'ops' });
    admin.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
    await admin.subscribeAsync('#', { qos: 1 });
  });
  afterAll(async () => {
    for (const c of open) c.end(true);
    await admin.endAsync();
    await broker.stop();
  });

  async function login(username: string, opts: IClientOptions = {}): Promise<MqttClient> {
    const client = await connectClient(broker.url, { username, password: password(username), clientId: username, ...opts });
    open.push(client);
    return client;
  }

  /**
   * Publishes as `client` and waits until the broker has decided: a PUBACK (Mosquitto acks
   * and drops a denied publish) or the connection closed (the embedded broker drops the client).
   */
  async function publishSettled(client: MqttClient, topic: string, payload: string, retain = false): Promise<void> {
    if (!client.connected) throw new Error('publishSettled needs a connected client (a denied publish may have dropped it)');
    await Promise.race([client.publishAsync(topic, payload, { qos: 1, retain }).catch(() => undefined), new Promise<void>((resolve) => client.once('close', () => resolve()))]);
  }

  /** A control message from the admin, seen after anything the broker routed before it. */
  async function barrier(): Promise<void> {
    const topic = `bellhop/control/${++controls}`;
    await admin.publishAsync(topic, 'barrier', { qos: 1 });
    await waitFor(() => seen.some((m) => m.topic === topic), { what: `control message ${topic}` });
  }

  /** One publish from a fresh login of `username`, settled. */
  async function publishAs(username: string, topic: string, payload: string, retain = false): Promise<void> {
    await publishSettled(await login(username), topic, payload, retain);
  }

  const arrived = (topic: string, payload: string) => seen.some((m) => m.topic === topic && m.payload === payload);

  it('refuses a wrong password, an unknown user, a missing password and no credentials', async () => {
    const refused = /Bad username or password|Not authorized/i;
    await expect(connectClient(broker.url, { username: 'pi-1', password: 'pi-2-password', clientId: 'pi-1' })).rejects.toThrow(refused);
    await expect(connectClient(broker.url, { username: 'pi-1', password: 'pi-1-passwordX', clientId: 'pi-1' })).rejects.toThrow(refused);
    await expect(connectClient(broker.url, { username: 'nobody', password: 'pi-1-password', clientId: 'nobody' })).rejects.toThrow(refused);
    await expect(connectClient(broker.url, { username: 'pi-1', clientId: 'pi-1' })).rejects.toThrow(refused);
    await expect(connectClient(broker.url, { clientId: 'anonymous' })).rejects.toThrow(refused);
    // The right password works, so the refusals above are about the password.
    const ok = await login('pi-1');
    expect(ok.connected).toBe(true);
    await ok.endAsync();
  });

  it('cannot publish events, while the server can', async () => {
    const server = await login('server', { clientId: 'bellhop-server-acl' });
    await publishSettled(server, 'bellhop/events/user/signup', 'from-server');
    await publishAs('pi-1', 'bellhop/events/user/signup', 'forged-by-pi-1');
    await publishAs('pi-1', 'bellhop/events/bell/test', 'forged-by-pi-1');
    await barrier();
    expect(arrived('bellhop/events/user/signup', 'from-server')).toBe(true);
    expect(seen.filter((m) => m.payload === 'forged-by-pi-1')).toEqual([]);
  });

  it('cannot speak for another bell (its status, rang or state), only for its own', async () => {
    const own = await login('pi-1');
    await publishSettled(own, 'bellhop/devices/pi-1/rang', 'own-rang');
    for (const channel of ['status', 'rang', 'state']) await publishAs('pi-1', `bellhop/devices/pi-2/${channel}`, 'forged-by-pi-1');
    await barrier();
    expect(arrived('bellhop/devices/pi-1/rang', 'own-rang')).toBe(true);
    expect(seen.filter((m) => m.payload === 'forged-by-pi-1')).toEqual([]);
  });

  it('cannot change another bell\'s mute, nor mute every bell or ring them, while the Slack role can', async () => {
    const slack = await login('slack', { clientId: 'slack-acl' });
    await publishSettled(slack, 'bellhop/devices/pi-2/mute', 'muted-by-slack', true);
    for (const topic of ['bellhop/devices/pi-2/mute', 'bellhop/devices/all/mute', 'bellhop/devices/pi-1/mute', 'bellhop/devices/pi-2/ding']) {
      await publishAs('pi-1', topic, 'forged-by-pi-1', true);
    }
    await barrier();
    expect(arrived('bellhop/devices/pi-2/mute', 'muted-by-slack')).toBe(true);
    expect(seen.filter((m) => m.payload === 'forged-by-pi-1')).toEqual([]);

    // The retained mute a bell reads when it comes back is still Slack's.
    const pi2 = await login('pi-2');
    const retained: string[] = [];
    pi2.on('message', (topic, payload) => topic === 'bellhop/devices/pi-2/mute' && retained.push(payload.toString()));
    await pi2.subscribeAsync('bellhop/devices/pi-2/mute', { qos: 1 });
    await waitFor(() => retained.length > 0, { what: 'the retained mute' });
    expect(retained).toEqual(['muted-by-slack']);
    // RabbitMQ closes a new login under a client id still connected (the next try gets in).
    await pi2.endAsync();
  });

  it('cannot read another bell\'s dings or mute, whatever it subscribes to, but gets its own', async () => {
    await admin.publishAsync('bellhop/devices/pi-2/mute', 'pi-2-muted', { qos: 1, retain: true });
    const got: string[] = [];
    const loginListening = async () => {
      const client = await login('pi-1');
      client.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
      return client;
    };
    let device = await loginListening();
    for (const filter of ['bellhop/devices/pi-2/ding', 'bellhop/devices/pi-2/mute', 'bellhop/devices/pi-2/#', 'bellhop/devices/+/ding', 'bellhop/devices/#', '#']) {
      // The embedded broker refuses these (SUBACK 0x80); Mosquitto grants them and filters;
      // RabbitMQ drops the client, which then tries the next one from a new login.
      if (!device.connected) device = await loginListening();
      await Promise.race([device.subscribeAsync(filter, { qos: 1 }).catch(() => undefined), new Promise<void>((resolve) => device.once('close', () => resolve()))]);
    }
    if (!device.connected) device = await loginListening();
    await device.subscribeAsync('bellhop/devices/pi-1/ding', { qos: 1 });
    await admin.publishAsync('bellhop/devices/pi-2/ding', 'for-pi-2', { qos: 1 });
    await admin.publishAsync('bellhop/devices/pi-1/ding', 'for-pi-1', { qos: 1 });
    await waitFor(() => got.includes('bellhop/devices/pi-1/ding for-pi-1'), { what: 'pi-1\'s own ding' });
    expect(got.filter((m) => m.includes('pi-2'))).toEqual([]);
  });

  it('cannot read another bell\'s queued dings by connecting under its client id', async () => {
    const pi2 = await login('pi-2', { clean: false });
    await pi2.subscribeAsync('bellhop/devices/pi-2/ding', { qos: 1 });
    await pi2.endAsync();
    await admin.publishAsync('bellhop/devices/pi-2/ding', 'queued-for-pi-2', { qos: 1 });

    // The embedded broker refuses the login outright; Mosquitto cannot tie a client id to a
    // login, so it lets pi-1 take over pi-2's session but delivers nothing it may not read;
    // RabbitMQ refuses pi-1 the queues of any client id but its own.
    const impostor = await connectClient(broker.url, { username: 'pi-1', password: password('pi-1'), clientId: 'pi-2', clean: false }).catch(() => undefined);
    if (!impostor) return;
    open.push(impostor);
    const got: string[] = [];
    impostor.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await impostor.subscribeAsync('bellhop/devices/pi-1/ding', { qos: 1 });
    await admin.publishAsync('bellhop/devices/pi-1/ding', 'control-for-pi-1', { qos: 1 });
    await waitFor(() => got.includes('bellhop/devices/pi-1/ding control-for-pi-1'), { what: 'the impostor\'s own ding' });
    expect(got.filter((m) => m.includes('pi-2'))).toEqual([]);
  });
});

describe('a device logging in under another bell\'s client id', () => {
  it('leaves that bell\'s session and queued dings in place', async () => {
    // Stock Mosquitto wipes the session of a client id taken over by another login, so
    // `bellhop mosquitto-config --username-as-client-id` is what protects a bell there.
    const config = testConfig({ broker: { users } });
    const broker: Pick<BrokerPart, 'url' | 'stop'> =
      process.env.BELLHOP_TEST_BROKER === 'mosquitto' ? await startMosquitto(config, { usernameAsClientId: true }) : await startBroker(config);
    const got: string[] = [];
    const login = async (username: string, clientId: string) => {
      const client = mqtt.connect(broker.url, { username, password: password(username), clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0 });
      // Queued messages can arrive with the CONNACK, before connect's awaiter could listen.
      client.on('message', (_topic, payload) => got.push(`${clientId} ${payload.toString()}`));
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      return client;
    };
    try {
      const admin = await login('ops', 'ops');
      let pi2 = await login('pi-2', 'pi-2');
      await pi2.subscribeAsync('bellhop/devices/pi-2/ding', { qos: 1 });
      await pi2.endAsync();
      await admin.publishAsync('bellhop/devices/pi-2/ding', 'queued-for-pi-2', { qos: 1 });

      const impostor = await login('pi-1', 'pi-2').catch(() => undefined);
      await impostor?.endAsync();

      pi2 = await login('pi-2', 'pi-2');
      await waitFor(() => got.includes('pi-2 queued-for-pi-2'), { what: 'the ding queued before the impostor came' });
      await pi2.endAsync();
      await admin.endAsync();
    } finally {
      await broker.stop();
    }
  });
});
