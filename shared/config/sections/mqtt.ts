// mqtt: how client parts reach the broker, embedded or external.
import { Type, type Static } from '@sinclair/typebox';
import { Ms } from './common.js';

export const MqttSection = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        pattern: '^(mqtts?|wss?|tcp|tls)://',
        description:
          'Broker every client part connects to. Default: the embedded broker, mqtt://127.0.0.1:<broker.port>. A cluster: every node, comma-separated (each reconnect tries the next).',
      }),
    ),
    protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], {
      default: 4,
      description: 'MQTT protocol: 4 (3.1.1, what aedes speaks) or 5 (external brokers).',
    }),
    topicPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$', default: 'bellhop', description: 'First level(s) of every bellhop topic.' }),
    caFile: Type.Optional(Type.String({ description: 'CA certificate (PEM) to trust for mqtts:// brokers.' })),
    reconnectMs: Ms(1000, 100, 60_000, 'Delay between reconnect attempts.'),
    giveUpAfterMs: Ms(
      600_000,
      0,
      86_400_000,
      'How long a part keeps retrying a broker it cannot reach before it exits non-zero, so systemd restarts it and the journal says why. 0 = retry forever.',
    ),
  },
  { additionalProperties: false, default: {} },
);
export type MqttConfig = Static<typeof MqttSection>;
