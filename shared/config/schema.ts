// The one settings schema: it drives validation, defaults and the README's
// configuration reference (see reference.ts), so the three never disagree.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

const Ms = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description });

/** Credentials one MQTT client part connects with (omit both on an open loopback broker). */
const MqttCredentials = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, description: 'MQTT username this part connects with.' })),
    password: Type.Optional(Type.String({ description: 'MQTT password (use ${ENV} or ${file:/path}).' })),
  },
  { additionalProperties: false, default: {}, description: 'MQTT credentials of this part.' },
);

export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)+$';

const BrokerUser = Type.Object(
  {
    username: Type.String({ minLength: 1, description: 'Login name.' }),
    password: Type.String({ minLength: 8, description: 'Password, at least 8 characters (use ${ENV} or ${file:/path}).' }),
    role: Type.Union([Type.Literal('server'), Type.Literal('device'), Type.Literal('slack'), Type.Literal('admin')], {
      description: 'What the user may do: server publishes events; device rings one bell; slack reads events and sends dings; admin everything.',
    }),
    deviceId: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', description: 'For role device: the bell it is (default: the username).' })),
  },
  { additionalProperties: false },
);

const ApiToken = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'Who uses the token; becomes the default event source.' }),
    token: Type.String({ minLength: 16, description: 'Bearer token, at least 16 characters (use ${ENV} or ${file:/path}).' }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ default: './data', description: 'Folder for broker persistence and the generated API token. Env: BELLHOP_DATA_DIR.' }),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info', description: 'pino log level. Env: BELLHOP_LOG_LEVEL.' },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    mqtt: Type.Object(
      {
        url: Type.Optional(
          Type.String({
            pattern: '^(mqtts?|wss?|tcp|tls)://',
            description: 'Broker every client part connects to. Default: the embedded broker, mqtt://127.0.0.1:<broker.port>.',
          }),
        ),
        protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], {
          default: 4,
          description: 'MQTT protocol: 4 (3.1.1, what aedes speaks) or 5 (external brokers).',
        }),
        topicPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$', default: 'bellhop', description: 'First level(s) of every bellhop topic.' }),
        caFile: Type.Optional(Type.String({ description: 'CA certificate (PEM) to trust for mqtts:// brokers.' })),
        reconnectMs: Ms(1000, 100, 60_000, 'Delay between reconnect attempts.'),
      },
      { additionalProperties: false, default: {} },
    ),
    broker: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'Address the embedded broker listens on. Beyond loopback, broker.users is required.' }),
        port: Port(1883, 'Embedded broker TCP port. Env: BELLHOP_MQTT_PORT.'),
        persistence: Type.Union([Type.Literal('level'), Type.Literal('memory')], {
          default: 'level',
          description: 'level keeps sessions and queued QoS 1 messages in <dataDir>/broker across restarts; memory forgets them.',
        }),
        users: Type.Array(BrokerUser, { default: [], description: 'Broker logins and their roles; empty = open broker (loopback only).' }),
      },
      { additionalProperties: false, default: {} },
    ),
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'Address the HTTP server listens on.' }),
        port: Port(8080, 'HTTP port. Env: BELLHOP_HTTP_PORT.'),
        bodyLimit: Type.Integer({ minimum: 1024, maximum: 10 * 1024 * 1024, default: 256 * 1024, description: 'Largest request body in bytes; larger gets 413.' }),
        maxBatch: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Most events in one POST /v1/events batch.' }),
        publishTimeoutMs: Ms(5000, 100, 60_000, 'How long to wait for the broker to acknowledge a publish before answering 503.'),
        retryAfterSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 5, description: 'Retry-After sent with a 503.' }),
        tokens: Type.Array(ApiToken, {
          default: [],
          description: 'Bearer tokens of the event API. Env BELLHOP_API_TOKEN adds one named "env". With none, one is generated into <dataDir>/api-token.',
        }),
        eventTypes: Type.Array(Type.String({ pattern: '^[a-z0-9_*.-]+$' }), {
          default: [],
          description: 'Event types accepted beyond the built-in catalogue (globs allowed, e.g. "deploy.*"); anything else is refused as unknown.',
        }),
        mqtt: MqttCredentials,
      },
      { additionalProperties: false, default: {} },
    ),
    device: Type.Object(
      {
        id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', default: 'office-bell', description: 'Device id: MQTT client id and topic level. "all" is reserved.' }),
        events: Type.Array(Type.String({ pattern: EVENT_TYPE_PATTERN }), {
          default: ['user.signup', 'bell.test'],
          description: 'Event types this bell rings for.',
        }),
        mqtt: MqttCredentials,
        gpio: Type.Object(
          {
            driver: Type.Union([Type.Literal('auto'), Type.Literal('onoff'), Type.Literal('mock'), Type.Literal('sim')], {
              default: 'auto',
              description: 'onoff drives a real pin; sim prints each ding; mock records writes (tests); auto = onoff where /sys/class/gpio exists, else sim. Env: BELLHOP_GPIO_DRIVER.',
            }),
            pin: Type.Integer({ minimum: 0, maximum: 53, default: 17, description: 'BCM pin number of the hammer. Env: BELLHOP_GPIO_PIN.' }),
          },
          { additionalProperties: false, default: {} },
        ),
        bell: Type.Object(
          {
            pulseMs: Ms(40, 1, 1000, 'How long the hammer pin stays high per strike.'),
            gapMs: Ms(150, 0, 10_000, 'Pause between strikes of one ring.'),
            maxPulseMs: Ms(100, 1, 1000, 'Hard cap on a pulse, whatever else asks for more (never above 1000).'),
            minGapMs: Ms(100, 0, 10_000, 'Least time the pin stays low between any two strikes.'),
            maxStrikesPerMinute: Type.Integer({ minimum: 1, maximum: 60_000, default: 20, description: 'Rate cap; events beyond it are coalesced into one later strike.' }),
            maxEventAgeSeconds: Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 300, description: 'Events older than this when they arrive are not rung.' }),
            strikes: Type.Record(Type.String({ pattern: EVENT_TYPE_PATTERN }), Type.Integer({ minimum: 1, maximum: 10 }), {
              default: {},
              description: 'Strikes per event type (default 1), e.g. {"subscription.upgraded": 2}.',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type Config = Static<typeof ConfigSchema>;
export type BrokerConfig = Config['broker'];
export type ServerConfig = Config['server'];
export type DeviceConfig = Config['device'];
export type BellConfig = DeviceConfig['bell'];
export type MqttConfig = Config['mqtt'];
export type MqttCredentialsConfig = Static<typeof MqttCredentials>;
export type BrokerUserConfig = Static<typeof BrokerUser>;
export type AnySchema = TSchema;
