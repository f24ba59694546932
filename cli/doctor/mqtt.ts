// Can each configured part reach the broker with its own credentials?
import type { Config } from '../../shared/config/schema.js';
import { connectMqtt, mqttSettings, waitForConnect } from '../../shared/mqtt.js';
import type { DoctorResult, DoctorSection } from './check.js';

export const mqttSection: DoctorSection = {
  name: 'broker',
  applies: () => true,
  async run(config: Config): Promise<DoctorResult[]> {
    const results: DoctorResult[] = [];
    for (const [part, credentials] of [
      ['server', config.server.mqtt],
      ['device', config.device.mqtt],
    ] as const) {
      const settings = mqttSettings(config, credentials);
      const client = connectMqtt(settings, { reconnectPeriod: 0, clientId: `bellhop-doctor-${part}-${process.pid}` });
      try {
        await waitForConnect(client, 3000);
        results.push({ ok: true, message: `${part}: connected to ${settings.url}${credentials.username ? ` as ${credentials.username}` : ''}` });
      } catch (err) {
        results.push({ ok: false, message: `${part}: cannot connect to ${settings.url}: ${(err as Error).message}` });
      } finally {
        client.end(true);
      }
    }
    return results;
  },
};
