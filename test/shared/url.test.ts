import { describe, expect, it } from 'vitest';
import { connectableUrl } from '../../shared/url.js';
import { BrokerPart } from '../../broker/broker.js';
import { silentLogger, testConfig } from '../helpers/world.js';

describe('the URL other parts reach a bind address at', () => {
  it('reaches a wildcard bind on loopback and brackets IPv6 literals', () => {
    expect(connectableUrl('mqtt', '0.0.0.0', 1883)).toBe('mqtt://127.0.0.1:1883');
    expect(connectableUrl('mqtt', '::', 1883)).toBe('mqtt://127.0.0.1:1883');
    expect(connectableUrl('mqtts', '::1', 8883)).toBe('mqtts://[::1]:8883');
    expect(connectableUrl('http', 'fe80::1%eth0', 8080)).toBe('http://[fe80::1%eth0]:8080');
    expect(connectableUrl('http', 'pi.local', 8080)).toBe('http://pi.local:8080');
  });

  it('is what the embedded broker on ::1 hands the other parts, and mqtt.js connects to it', async () => {
    const config = testConfig({ broker: { host: '::1', port: 0 } });
    const broker = new BrokerPart({ config: config.broker, topicPrefix: config.mqtt.topicPrefix, dataDir: config.dataDir, logger: silentLogger() });
    await broker.start();
    try {
      expect(broker.url).toMatch(/^mqtt:\/\/\[::1\]:\d+$/);
      const { connectAsync } = await import('mqtt');
      const client = await connectAsync(broker.url, { reconnectPeriod: 0 });
      expect(client.connected).toBe(true);
      await client.endAsync();
    } finally {
      await broker.stop();
    }
  });
});
