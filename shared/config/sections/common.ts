// Building blocks shared by the config sections.
import { Type, type Static } from '@sinclair/typebox';

/** How much an event matters; the envelope, the routing rules and the Slack part share this list. */
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export const Severity = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));
export type Severity = Static<typeof Severity>;

export const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

export const Ms = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description });

/** Credentials one MQTT client part connects with (omit both on an open loopback broker). */
export const MqttCredentials = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, description: 'MQTT username this part connects with.' })),
    password: Type.Optional(Type.String({ description: 'MQTT password (use ${ENV} or ${file:/path}).' })),
  },
  { additionalProperties: false, default: {}, description: 'MQTT credentials of this part.' },
);
export type MqttCredentialsConfig = Static<typeof MqttCredentials>;

export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)+$';
