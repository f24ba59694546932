// slack: the Slack sink (routed Block Kit messages) and the Socket Mode app (/ding).
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPE_PATTERN, Ms, MqttCredentials, Severity } from './common.js';

const Globs = (description: string) =>
  Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { description });

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const RouteMatch = Type.Object(
  {
    type: Type.Optional(Globs('Event type glob(s): `*` within a dotted segment, `**` across, e.g. "error.*" or ["payment.*", "subscription.*"].')),
    severity: Type.Optional(Type.Union([Severity, Type.Array(Severity, { minItems: 1 })], { description: 'Severity or list of severities.' })),
    source: Type.Optional(Globs('Source glob(s), `*` matches anything, e.g. "gitlab*".')),
    project: Type.Optional(Globs('Project glob(s), `*` matches anything; an event without a project never matches.')),
    data: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.Union([Scalar, Type.Array(Scalar, { minItems: 1 })]), {
        description: 'Data fields by dotted path, e.g. {"plan": "pro", "user.country": ["DE", "AT"]}; strings are globs.',
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'What the rule matches; every given key must match. Empty matches everything.' },
);

export const Route = Type.Object(
  {
    match: RouteMatch,
    channel: Type.Optional(
      Type.String({ minLength: 1, description: 'Channel to post to, a name or an id, with placeholders, e.g. "#proj-{project}".' }),
    ),
    dm: Type.Optional(
      Type.String({ minLength: 1, description: 'Direct message to a person by email (or Slack user id), e.g. "{data.user_email}".' }),
    ),
    drop: Type.Optional(Type.Boolean({ description: 'true: post nowhere and stop here.' })),
    continue: Type.Boolean({ default: false, description: 'Keep matching the following rules after this one (fan out).' }),
    digest: Type.Boolean({ default: true, description: 'Let bursts on this route be folded into a digest.' }),
  },
  { additionalProperties: false, description: 'One routing rule: exactly one of channel, dm or drop.' },
);
export type RouteConfig = Static<typeof Route>;

export const TemplateField = Type.Union([
  Type.String({ minLength: 1, description: 'A data path, labelled from its last key: "customer.plan" -> "Plan".' }),
  Type.Object(
    {
      label: Type.String({ minLength: 1, maxLength: 100, description: 'The label people read, e.g. "Next retry".' }),
      value: Type.String({ minLength: 1, description: 'With placeholders and filters, e.g. "{data.nextRetryAt|date}".' }),
    },
    { additionalProperties: false },
  ),
]);

export const TemplateLink = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 75, description: 'Button text, with placeholders.' }),
    url: Type.String({ minLength: 1, description: 'http(s) URL with placeholders (values are URL-encoded), e.g. "https://admin.example.com/users/{data.user_id}".' }),
  },
  { additionalProperties: false },
);

// Every part is optional: what a template leaves out comes from the type's built-in
// message (or the generic one), so overriding the header alone is one line.
export const MessageTemplate = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, description: 'Header text with placeholders, e.g. "New signup: {data.email}".' })),
    text: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Body (Slack mrkdwn) with placeholders; the values put in are escaped. Filters: {data.amount|money} (minor units, with data.currency), {data.at|date}.',
      }),
    ),
    fields: Type.Optional(Type.Array(TemplateField, { maxItems: 10, description: 'Fields: data paths, or {label, value} pairs, e.g. ["plan", {"label": "Next retry", "value": "{data.nextRetryAt|date}"}].' })),
    links: Type.Optional(Type.Array(TemplateLink, { maxItems: 5, description: 'Link buttons, shown before the event\'s own data.links.' })),
    digestTitle: Type.Optional(
      Type.String({ minLength: 1, description: 'Digest header, with {count} and {window}, e.g. "{count} new signups in the last {window}".' }),
    ),
  },
  { additionalProperties: false },
);
export type MessageTemplateConfig = Static<typeof MessageTemplate>;

export const SlackSection = Type.Object(
  {
    botToken: Type.Optional(
      Type.String({ pattern: '^xox[a-z]-', description: 'Bot token (xoxb-...). Without it the sink runs dry: it prints what it would post. Env: SLACK_BOT_TOKEN.' }),
    ),
    appToken: Type.Optional(
      Type.String({ pattern: '^xapp-', description: 'App-level token (xapp-..., scope connections:write) for Socket Mode and the slash command. Env: SLACK_APP_TOKEN.' }),
    ),
    apiUrl: Type.String({
      pattern: '^https?://',
      default: 'https://slack.com/api/',
      description: 'Slack Web API base URL, for Slack-compatible endpoints and tests. Env: SLACK_API_URL.',
    }),
    defaultChannel: Type.Optional(
      Type.String({ minLength: 1, description: 'Where events go that no rule routes (the default route); unset = they are dropped, with a log line. Required with a bot token when there are no slack.routes. Env: BELLHOP_SLACK_CHANNEL.' }),
    ),
    routes: Type.Array(Route, { default: [], description: 'Routing rules, tried in order; the first match wins unless it says continue.' }),
    templates: Type.Record(Type.String({ pattern: EVENT_TYPE_PATTERN }), MessageTemplate, {
      default: {},
      description: 'Message templates per event type, e.g. {"user.signup": {"title": "New signup: {data.email}"}}.',
    }),
    mqtt: MqttCredentials,
    mqttClientId: Type.String({
      pattern: '^[A-Za-z0-9_-]+$',
      default: 'bellhop-slack',
      description: 'Fixed MQTT client id of the sink: its persistent session keeps events queued while it is down. One sink per id.',
    }),
    shareGroup: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]+$',
        description:
          'Run several sinks that share the work: each subscribes to events as $share/<group>/... so every event goes to one of them. Needs an external broker with shared subscriptions (Mosquitto, EMQX, HiveMQ); give each sink its own mqttClientId and dataDir.',
      }),
    ),
    limiter: Type.Object(
      {
        intervalMs: Ms(1000, 1, 60_000, 'Per channel: one message per this many ms on average (Slack allows about one per second).'),
        burst: Type.Integer({ minimum: 1, maximum: 100, default: 3, description: 'Per channel: messages allowed back to back before the interval applies.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    digest: Type.Object(
      {
        threshold: Type.Integer({
          minimum: 0,
          maximum: 10_000,
          default: 5,
          description: 'Events of one type to one channel posted one by one per window; beyond it, the rest of the window becomes one digest. 0 turns digests off.',
        }),
        windowMs: Ms(60_000, 10, 24 * 3600_000, 'Length of the digest window.'),
        maxListed: Type.Integer({ minimum: 1, maximum: 45, default: 20, description: 'Most events listed in one digest; the rest are counted.' }),
        severities: Type.Array(Severity, {
          default: ['info', 'warning'],
          description: 'Severities that may be digested; others are always posted one by one.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    threads: Type.Object(
      {
        types: Type.Array(Type.String({ minLength: 1 }), {
          default: ['error.*', '*.failed'],
          description: 'Event type globs whose repeats (same fingerprint) go into the first message\'s thread.',
        }),
        windowMs: Ms(3600_000, 10, 7 * 24 * 3600_000, 'A repeat within this long of the previous one joins the thread; later, it starts a new message.'),
      },
      { additionalProperties: false, default: {} },
    ),
    retry: Type.Object(
      {
        minMs: Ms(1000, 1, 600_000, 'First wait after Slack failed (5xx, network); doubles on each failure.'),
        maxMs: Ms(60_000, 1, 3600_000, 'Longest wait between attempts while Slack is failing.'),
      },
      { additionalProperties: false, default: {} },
    ),
    requestTimeoutMs: Ms(10_000, 100, 120_000, 'How long one Slack API call may take before it counts as failed.'),
    dedupSize: Type.Integer({
      minimum: 100,
      maximum: 1_000_000,
      default: 10_000,
      description: 'Event ids remembered on disk (<dataDir>/slack) so redelivered events are not posted twice; also how many recent messages a ring can still update.',
    }),
    command: Type.Object(
      {
        name: Type.String({ pattern: '^/[a-z0-9_-]+$', default: '/ding', description: 'Slash command the Socket Mode app answers.' }),
        waitMs: Ms(5000, 100, 60_000, 'How long /ding waits for the bells to report before answering.'),
        allowUsers: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Slack user ids (U...) who may use the command; empty = everyone.' }),
        allowChannels: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Channel ids (C...) where the command may be used; empty = everywhere.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    socket: Type.Object(
      {
        pingTimeoutMs: Ms(5000, 100, 60_000, 'A Socket Mode connection whose pongs stop for this long is replaced.'),
        reconnectMs: Ms(1000, 10, 60_000, 'First wait before reconnecting after a failure; doubles up to 30 s. Refreshes requested by Slack reconnect at once.'),
        connectTimeoutMs: Ms(15_000, 100, 120_000, 'A connection attempt that gets no hello within this long is abandoned and retried.'),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type SlackConfig = Static<typeof SlackSection>;
