// sources: the webhook sources (Stripe, GitHub, GitLab, Coder, Airbrake, Active Collab,
// phone calls, browser beacons) and Standard Webhooks signing on /v1/events.
// Every source is off until enabled; an enabled source needs its secret.
import { Type, type Static } from '@sinclair/typebox';
import { SOURCE_TYPES, type SourceName } from '../../event-types.js';
import { closest } from '../suggest.js';
import { EVENT_TYPE_PATTERN, Severity } from './common.js';

const Secrets = (what: string) =>
  Type.Array(Type.String({ minLength: 8 }), {
    default: [],
    description: `${what} Several are accepted at once, for rotation (use \${ENV} or \${file:/path}).`,
  });

const Enabled = (name: string) => Type.Boolean({ default: false, description: `Accept ${name} webhooks.` });

const ToleranceSeconds = (what: string) =>
  Type.Integer({ minimum: 1, maximum: 3600, default: 300, description: `Largest accepted distance between ${what} and the server clock, in seconds.` });

const OptionalProject = (what: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: `Project set on ${what} events (routes them, e.g. to a channel).` }));

// Keys are checked against what the source emits by sourcesProblems: a Record keeps the
// reference to one row per source, where an object of every type would list them all.
const Severities = (name: SourceName) =>
  Type.Record(Type.String(), Severity, {
    default: {},
    description: `Severity per event type this source emits, over bellhop's own (the table in docs/sources.md), e.g. {"${Object.keys(SOURCE_TYPES[name])[0]}": "warning"}.`,
  });

export const ACTIVECOLLAB_KINDS = ['TaskCreated', 'TaskCompleted', 'TaskReopened'] as const;

export const SourcesSection = Type.Object(
  {
    dedup: Type.Object(
      {
        ttlHours: Type.Integer({ minimum: 1, maximum: 24 * 30, default: 24, description: 'How long a delivery id is remembered; a redelivery within it is answered 2xx and not published again.' }),
        maxEntries: Type.Integer({ minimum: 100, maximum: 1_000_000, default: 20_000, description: 'Most delivery ids remembered (oldest forgotten first), to bound memory.' }),
        persist: Type.Boolean({ default: true, description: 'Keep delivery ids in <dataDir>/sources/deliveries.jsonl so a restart does not forget them.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    stripe: Type.Object(
      {
        enabled: Enabled('Stripe'),
        secrets: Secrets('Endpoint signing secrets (whsec_...) that Stripe-Signature is checked against.'),
        toleranceSeconds: ToleranceSeconds("the Stripe-Signature timestamp"),
        project: OptionalProject('Stripe'),
        severities: Severities('stripe'),
      },
      { additionalProperties: false, default: {}, description: 'POST /v1/sources/stripe' },
    ),
    github: Type.Object(
      {
        enabled: Enabled('GitHub'),
        secrets: Secrets('Webhook secrets that X-Hub-Signature-256 is checked against.'),
        severities: Severities('github'),
      },
      { additionalProperties: false, default: {}, description: 'POST /v1/sources/github' },
    ),
    gitlab: Type.Object(
      {
        enabled: Enabled('GitLab'),
        tokens: Secrets('Secret tokens compared with the X-Gitlab-Token header; when set, the header is required.'),
        signingTokens: Secrets('Signing tokens (whsec_<base64> or plain) for the Standard Webhooks headers GitLab sends when a signing token is set; when set, a signature is required.'),
        toleranceSeconds: ToleranceSeconds('the webhook-timestamp header'),
        severities: Severities('gitlab'),
      },
      { additionalProperties: false, default: {}, description: 'POST /v1/sources/gitlab' },
    ),
    coder: Type.Object(
      {
        enabled: Enabled('Coder notification'),
        tokens: Secrets('Tokens Coder must send (?token= in the endpoint URL, or Authorization: Bearer), since Coder does not sign its webhook.'),
        project: OptionalProject('Coder'),
        severities: Severities('coder'),
      },
      { additionalProperties: false, default: {}, description: 'POST /v1/sources/coder' },
    ),
    airbrake: Type.Object(
      {
        enabled: Enabled('Airbrake/Errbit notice'),
        projects: Type.Array(
          Type.Object(
            {
              id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Project id the notifier is configured with (the :id in /api/v3/projects/:id/notices).' }),
              key: Type.String({ minLength: 8, description: 'Project key the notifier sends (?key=, Authorization: Bearer or X-Airbrake-Token).' }),
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'bellhop project of its errors (default: airbrake-<id>).' })),
            },
            { additionalProperties: false },
          ),
          { default: [], description: 'Airbrake projects accepted, each with its key.' },
        ),
        ignoreEnvironments: Type.Array(Type.String({ minLength: 1 }), {
          default: ['development', 'test'],
          description: "Notices whose context.environment is listed are answered but not published.",
        }),
        severities: Severities('airbrake'),
      },
      { additionalProperties: false, default: {}, description: 'POST /api/v3/projects/:id/notices' },
    ),
    activecollab: Type.Object(
      {
        enabled: Enabled('Active Collab'),
        secrets: Secrets('Webhook secrets compared with the X-Angie-WebhookSecret header.'),
        kinds: Type.Array(Type.Union(ACTIVECOLLAB_KINDS.map((k) => Type.Literal(k))), {
          default: [...ACTIVECOLLAB_KINDS],
          description: 'Which task webhooks to keep; the others are answered and ignored.',
        }),
        baseUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'Your Active Collab address (e.g. https://app.activecollab.com/123456), to link tasks.' })),
        projects: Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.String({ minLength: 1, maxLength: 200 }), {
          default: {},
          description: 'bellhop project per Active Collab project id (default: activecollab-<id>), e.g. {"2": "website"}.',
        }),
        severities: Severities('activecollab'),
      },
      { additionalProperties: false, default: {}, description: 'POST /v1/sources/activecollab' },
    ),
    calls: Type.Object(
      {
        enabled: Enabled('phone call'),
        tokens: Secrets('Tokens the PBX must send (?token=, Authorization: Bearer or X-Bellhop-Token).'),
        events: Type.Array(Type.String({ minLength: 1 }), {
          default: ['start', 'created', 'ringing', 'incoming_ringing', 'outgoing_ringing'],
          description: 'Values of the optional event/status field that become call events (any case); others (answered, ended...) are ignored.',
        }),
        project: OptionalProject('call'),
        severities: Severities('calls'),
      },
      { additionalProperties: false, default: {}, description: 'POST or GET /v1/sources/calls' },
    ),
    beacon: Type.Object(
      {
        enabled: Enabled('browser beacon'),
        origins: Type.Array(Type.String({ pattern: '^https?://[^/]+$' }), {
          default: [],
          description: 'Page origins allowed to send beacons (e.g. https://app.example.com; https://*.example.com for subdomains).',
        }),
        types: Type.Array(Type.String({ pattern: EVENT_TYPE_PATTERN }), {
          default: ['beacon.received'],
          description: 'Event types a beacon may carry; others are answered and ignored.',
        }),
        ratePerMinute: Type.Integer({ minimum: 1, maximum: 10_000, default: 30, description: 'Beacons accepted per client address per minute; more get 429.' }),
        bodyLimit: Type.Integer({ minimum: 256, maximum: 64 * 1024, default: 4096, description: 'Largest beacon body in bytes; larger gets 413.' }),
        project: OptionalProject('beacon'),
      },
      { additionalProperties: false, default: {}, description: 'POST /v1/beacon' },
    ),
    standardWebhooks: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'Accept Standard Webhooks signatures on /v1/events as an alternative to a bearer token.' }),
        secrets: Type.Array(
          Type.Object(
            {
              name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'Who signs with it; becomes the event source (api/<name>).' }),
              secret: Type.String({ minLength: 8, description: 'Signing secret, whsec_<base64> (or plain text).' }),
            },
            { additionalProperties: false },
          ),
          { default: [], description: 'Signing secrets; a delivery signed with any of them is accepted.' },
        ),
        toleranceSeconds: ToleranceSeconds('the webhook-timestamp header'),
      },
      { additionalProperties: false, default: {}, description: 'POST /v1/events with webhook-id, webhook-timestamp, webhook-signature' },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type SourcesConfig = Static<typeof SourcesSection>;

/** Settings the schema cannot express (an enabled source needs a secret); returns the first problem. */
/** Every problem of the sources section, each as `<key>: <what is wrong>`. */
export function sourcesProblems(s: SourcesConfig): string[] {
  const problems: string[] = [];
  const needs: Array<[boolean, number, string]> = [
    [s.stripe.enabled, s.stripe.secrets.length, 'sources.stripe.secrets'],
    [s.github.enabled, s.github.secrets.length, 'sources.github.secrets'],
    [s.gitlab.enabled, s.gitlab.tokens.length + s.gitlab.signingTokens.length, 'sources.gitlab.tokens (or signingTokens)'],
    [s.coder.enabled, s.coder.tokens.length, 'sources.coder.tokens'],
    [s.airbrake.enabled, s.airbrake.projects.length, 'sources.airbrake.projects'],
    [s.activecollab.enabled, s.activecollab.secrets.length, 'sources.activecollab.secrets'],
    [s.calls.enabled, s.calls.tokens.length, 'sources.calls.tokens'],
    [s.beacon.enabled, s.beacon.origins.length, 'sources.beacon.origins'],
    [s.standardWebhooks.enabled, s.standardWebhooks.secrets.length, 'sources.standardWebhooks.secrets'],
  ];
  for (const [enabled, count, key] of needs) {
    if (enabled && count === 0) problems.push(`${key}: required when the source is enabled`);
  }
  for (const name of Object.keys(SOURCE_TYPES) as SourceName[]) {
    const known = Object.keys(SOURCE_TYPES[name]);
    for (const type of Object.keys(s[name].severities)) {
      if (known.includes(type)) continue;
      const near = closest(type, known);
      problems.push(`sources.${name}.severities.${type}: not a type the ${name} source emits (${near ? `did you mean ${near}? ` : ''}it emits ${known.join(', ')})`);
    }
  }
  return problems;
}
