// Can each configured part reach the broker with its own credentials? Only parts with
// credentials are tried (a Pi has no server login), or one anonymous login when none has.
import type { Config } from '../../shared/config/schema.js';
import type { MqttCredentialsConfig } from '../../shared/config/sections/common.js';
import { connectMqtt, mqttSettings, waitForConnect } from '../../shared/mqtt.js';
import type { DoctorResult, DoctorSection } from './check.js';

/** CONNACK 2 (identifier rejected) comes after the password check: the login itself was good. */
const IDENTIFIER_REJECTED = 2;

export const mqttSection: DoctorSection = {
  name: 'broker',
  applies: () => true,
  async run(config: Config): Promise<DoctorResult[]> {
    const withLogin = ([
      ['server', config.server.mqtt],
      ['device', config.device.mqtt],
    ] as Array<[string, MqttCredentialsConfig]>).filter(([, c]) => c.username !== undefined);
    const tries = withLogin.length > 0 ? withLogin : ([['anonymous', {}]] as Array<[string, MqttCredentialsConfig]>);
    const results: DoctorResult[] = [];
    for (const [part, credentials] of tries) {
      const settings = mqttSettings(config, credentials);
      // Never the device's own client id: taking it over would disconnect the running agent.
      const client = connectMqtt(settings, { reconnectPeriod: 0, clientId: `bellhop-doctor-${part}-${process.pid}` });
      const as = credentials.username ? ` as ${credentials.username}` : '';
      try {
        await waitForConnect(client, 3000);
        results.push({ ok: true, message: `${part}: connected to ${settings.url}${as}` });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (part === 'device' && code === IDENTIFIER_REJECTED) {
          results.push({ ok: true, message: `${part}: ${settings.url} accepts the login${as} (bound to the device's own client id)` });
        } else {
          results.push({ ok: false, message: `${part}: cannot connect to ${settings.url}${as}: ${(err as Error).message}` });
        }
      } finally {
        client.end(true);
      }
    }
    return results;
  },
};
