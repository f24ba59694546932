import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { BrokerPart } from '../../broker/broker.js';
import { captureLogger, connectClient, startBroker, testConfig, waitFor } from '../helpers/world.js';

const users = [
  { username: 'server', password: 'server-password', role: 'server' },
  { username: 'pi-1', password: 'pi-1-password', role: 'device' },
  { username: 'pi-2', password: 'pi-2-password', role: 'device' },
  { username: 'ops', password: 'ops-password-x', role: 'admin' },
];

describe('broker logins and topic ACLs', () => {
  let broker: BrokerPart;
  let admin: MqttClient;
  const received: string[] = [];
  const log = captureLogger('info');

  beforeAll(async () => {
    broker = await startBroker(testConfig({ broker: { users } }), log.logger);
    admin = await connectClient(broker.url, { username: 'ops', password: 'ops-password-x', clientId: 'ops' });
    admin.on('message', (topic) => received.push(topic));
    await admin.subscribeAsync('#', { qos: 1 });
  });
  afterAll(async () => {
    await admin.endAsync();
    await broker.stop();
  });

  const login = (username: string, password: string, clientId = username) =>
    connectClient(broker.url, { username, password, clientId });

  /** Publishes as `client`, then a control message as admin; returns whether the first arrived. */
  async function delivered(client: MqttClient, topic: string): Promise<boolean> {
    client.publish(topic, 'x', { qos: 0 });
    const control = `bellhop/control/${Math.random()}`;
    await admin.publishAsync(control, 'c', { qos: 1 });
    await waitFor(() => received.includes(control), { what: 'the control message' });
    return received.includes(topic);
  }

  it('refuses a wrong password and an unknown user', async () => {
    await expect(login('pi-1', 'wrong-password')).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(login('nobody', 'whatever-password')).rejects.toThrow();
    expect(log.lines().some((l) => l.msg === 'login refused' && l.username === 'pi-1')).toBe(true);
  });

  it('refuses a device that connects with another device\'s client id', async () => {
    await expect(login('pi-1', 'pi-1-password', 'pi-2')).rejects.toThrow();
  });

  it('lets the server publish events but not a device', async () => {
    const server = await login('server', 'server-password', 'bellhop-server-1');
    expect(await delivered(server, 'bellhop/events/user/signup')).toBe(true);
    await server.endAsync();
    const device = await login('pi-1', 'pi-1-password');
    expect(await delivered(device, 'bellhop/events/user/signup-forged')).toBe(false);
    await device.endAsync().catch(() => undefined);
    expect(log.lines().some((l) => l.msg === 'publish denied by ACL' && l.topic === 'bellhop/events/user/signup-forged')).toBe(true);
  });

  it('lets a device publish its own status and rang, not another device\'s', async () => {
    const device = await login('pi-1', 'pi-1-password');
    expect(await delivered(device, 'bellhop/devices/pi-1/rang')).toBe(true);
    expect(await delivered(device, 'bellhop/devices/pi-2/status')).toBe(false);
    await device.endAsync().catch(() => undefined);
  });

  it('lets a device subscribe to events and its own topics, and refuses another device\'s', async () => {
    const device = await login('pi-1', 'pi-1-password');
    const outcome = async (topic: string) =>
      device.subscribeAsync(topic, { qos: 1 }).then(
        (granted) => granted[0]?.qos,
        () => 'refused',
      );
    expect(await outcome('bellhop/events/#')).toBe(1);
    expect(await outcome('bellhop/devices/pi-1/ding')).toBe(1);
    expect(await outcome('bellhop/devices/all/ding')).toBe(1);
    expect(await outcome('bellhop/devices/pi-2/ding')).toBe('refused');
    expect(await outcome('bellhop/devices/#')).toBe('refused');
    expect(log.lines().some((l) => l.msg === 'subscribe denied by ACL' && l.topic === 'bellhop/devices/pi-2/ding')).toBe(true);
    await device.endAsync();
  });

  it('never logs broker passwords', () => {
    expect(log.text()).not.toMatch(/pi-1-password|server-password|ops-password-x|wrong-password/);
  });
});
