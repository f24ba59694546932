// server: the HTTP event API.
import { Type, type Static } from '@sinclair/typebox';
import { Ms, MqttCredentials, Port } from './common.js';

export const ApiToken = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'Who uses the token; becomes the default event source.' }),
    token: Type.String({ minLength: 16, description: 'Bearer token, at least 16 characters (use ${ENV} or ${file:/path}).' }),
    scope: Type.Union([Type.Literal('write'), Type.Literal('read')], {
      default: 'write',
      description: 'write: post events, ring and mute bells, and read the status page. read: only the status page and its API (for a screen in the office).',
    }),
  },
  { additionalProperties: false },
);

export const ServerSection = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address the HTTP server listens on.' }),
    port: Port(8080, 'HTTP port. Env: BELLHOP_HTTP_PORT.'),
    bodyLimit: Type.Integer({ minimum: 1024, maximum: 10 * 1024 * 1024, default: 256 * 1024, description: 'Largest request body in bytes; larger gets 413.' }),
    requestTimeoutMs: Ms(10_000, 1000, 300_000, 'A request must arrive whole (headers and body) within this, or its connection is closed with 408: a few clients trickling bytes cannot hold sockets for minutes.'),
    maxConnections: Type.Integer({ minimum: 8, maximum: 65_535, default: 256, description: 'Open HTTP connections at most (status page streams included); further ones are refused by the kernel until one closes.' }),
    maxBatch: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Most events in one POST /v1/events batch.' }),
    publishTimeoutMs: Ms(5000, 100, 60_000, 'How long to wait for the broker to acknowledge a publish before answering 504 publish_unconfirmed (the event may have been published).'),
    retryAfterSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 5, description: 'Retry-After sent with a 503 or 504.' }),
    tokens: Type.Array(ApiToken, {
      default: [],
      description: 'Bearer tokens of the event API. Env BELLHOP_API_TOKEN adds one named "env". With none, one is generated into <dataDir>/api-token.',
    }),
    eventTypes: Type.Array(Type.String({ pattern: '^[a-z0-9_*.-]+$' }), {
      default: [],
      description: 'Event types accepted beyond the built-in catalogue (globs allowed, e.g. "deploy.*"); anything else is refused as unknown.',
    }),
    publishQos: Type.Union([Type.Literal(1), Type.Literal(2)], {
      default: 1,
      description:
        'QoS of event publishes; 202 waits for the acknowledgement. 1: the PUBACK (the embedded broker has the event on disk before it sends it). 2: PUBREC/PUBCOMP, two more round trips; costs about half the ingest rate (see Benchmarks).',
    }),
    metrics: Type.Boolean({ default: true, description: 'Serve GET /metrics (Prometheus text format: counts only, no secrets).' }),
    mqtt: MqttCredentials,
    mqttClientId: Type.String({
      minLength: 1,
      default: 'bellhop-server',
      description:
        "MQTT client id of the server's persistent session: the broker keeps its subscriptions and queues the bells' and the Slack part's reports while it is away (a restart of either), so the status page and /metrics miss none. Give each server of a scaled-out set its own.",
    }),
  },
  { additionalProperties: false, default: {} },
);
export type ServerConfig = Static<typeof ServerSection>;
