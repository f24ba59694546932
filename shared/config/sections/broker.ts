// broker: the embedded aedes broker.
import { Type, type Static } from '@sinclair/typebox';
import { Port } from './common.js';

export const BrokerUser = Type.Object(
  {
    // No MQTT wildcards or levels: a device's username doubles as its topic level.
    username: Type.String({ minLength: 1, pattern: '^[^+#/\\s]+$', description: 'Login name (no +, #, / or spaces).' }),
    password: Type.String({ minLength: 8, description: 'Password, at least 8 characters (use ${ENV} or ${file:/path}).' }),
    role: Type.Union([Type.Literal('server'), Type.Literal('device'), Type.Literal('slack'), Type.Literal('admin')], {
      description: 'What the user may do: server publishes events; device rings one bell; slack reads events and sends dings; admin everything.',
    }),
    deviceId: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', description: 'For role device: the bell it is (default: the username).' })),
  },
  { additionalProperties: false },
);

export type BrokerUserConfig = Static<typeof BrokerUser>;

export const BrokerSection = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address the embedded broker listens on. Beyond loopback, broker.users is required.' }),
    port: Port(1883, 'Embedded broker TCP port. Env: BELLHOP_MQTT_PORT.'),
    persistence: Type.Union([Type.Literal('level'), Type.Literal('memory')], {
      default: 'level',
      description: 'level keeps sessions and queued QoS 1 messages in <dataDir>/broker across restarts; memory forgets them.',
    }),
    users: Type.Array(BrokerUser, { default: [], description: 'Broker logins and their roles; empty = open broker (loopback only).' }),
    tls: Type.Optional(
      Type.Object(
        {
          certFile: Type.String({ minLength: 1, description: 'Serve MQTT over TLS (mqtts://) with this certificate (PEM, with intermediates); clients trust it via mqtt.caFile. Unset: plain TCP.' }),
          keyFile: Type.String({ minLength: 1, description: 'Private key (PEM) of broker.tls.certFile.' }),
        },
        {
          additionalProperties: false,
          description: 'Serve MQTT over TLS (mqtts://) instead of plain TCP; clients trust it through mqtt.caFile. Unset: plain TCP.',
        },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);
export type BrokerConfig = Static<typeof BrokerSection>;
