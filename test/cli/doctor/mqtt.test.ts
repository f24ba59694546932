import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerPart } from '../../../broker/broker.js';
import { mqttSection } from '../../../cli/doctor/mqtt.js';
import { startBroker, testConfig, withBroker } from '../../helpers/world.js';

const users = [
  { username: 'server', password: 'server-password', role: 'server' },
  { username: 'office-bell', password: 'office-bell-password', role: 'device' },
];

describe('bellhop doctor, broker section', () => {
  let broker: BrokerPart;
  beforeAll(async () => {
    broker = await startBroker(testConfig({ broker: { users } }));
  });
  afterAll(() => broker.stop());

  it('checks only the logins a machine has: a Pi with device credentials only', async () => {
    const config = withBroker(testConfig({ device: { mqtt: { username: 'office-bell', password: 'office-bell-password' } } }), broker.url);
    const results = await mqttSection.run(config);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: true, message: expect.stringMatching(/^device: .*office-bell/) });
  });

  it('reports a wrong password as a failure naming the part', async () => {
    const config = withBroker(testConfig({ server: { mqtt: { username: 'server', password: 'not-the-password' } } }), broker.url);
    const [result] = await mqttSection.run(config);
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/^server: cannot connect/) });
  });

  it('tries one anonymous login when no part has credentials', async () => {
    const config = withBroker(testConfig(), broker.url);
    const results = await mqttSection.run(config);
    expect(results.map((r) => r.message)).toEqual([expect.stringMatching(/^anonymous: cannot connect/)]);
    expect(results[0]!.ok).toBe(false);
  });
});
