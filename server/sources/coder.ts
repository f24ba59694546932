// POST /v1/sources/coder: Coder's notification webhook (CODER_NOTIFICATIONS_WEBHOOK_ENDPOINT).
// Coder does not sign it and can send no custom header, so the endpoint URL carries a
// token (?token=...). Each notification is for one person: data.user_email lets the
// Slack sink send it as a DM, its actions become buttons, and msg_id is the dedup key
// and the envelope id.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput, Severity } from '../../shared/envelope.js';
import { SOURCE_TYPES } from '../../shared/event-types.js';
import { compact, deliver, deliveryEventId, redactQuerySecrets, header, ignore, PayloadSchema, rawBody, unauthorized, useRawBody, type Mapped, type SourceContext } from './context.js';
import { checkToken } from './signatures.js';
import { str } from './values.js';

export type CoderConfig = SourcesConfig['coder'];

const Action = Type.Object({ label: Type.String(), url: Type.String() });
const CoderMessage = Type.Object({
  _version: Type.Optional(Type.String()),
  msg_id: Type.String({ minLength: 1, maxLength: 200 }),
  title: Type.String(),
  body: Type.String(),
  title_markdown: Type.Optional(Type.String()),
  body_markdown: Type.Optional(Type.String()),
  payload: Type.Object({
    notification_name: Type.Optional(Type.String()),
    user_id: Type.Optional(Type.String()),
    // The subject of the event, which is at most 500 characters; an address is at most 254.
    user_email: Type.Optional(Type.String({ maxLength: 320 })),
    user_name: Type.Optional(Type.String()),
    user_username: Type.Optional(Type.String()),
    actions: Type.Optional(Type.Union([Type.Array(Action), Type.Null()])),
    labels: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
  }),
});
const coderMessage = new PayloadSchema(CoderMessage, 'a Coder notification');
export type CoderMessage = ReturnType<typeof coderMessage.check>;

/** Every type this source emits, with its usual severity; `bellhop types` lists the same table. */
export const CODER_EVENT_TYPES = SOURCE_TYPES.coder;

/**
 * Severity of a notification.sent by Coder's template name, for what its person must act
 * on: a failed build is an error (their workspace is not what they asked for); a warning
 * comes before a loss they can still prevent (dormant, marked for deletion, out of
 * memory or disk, a suspended account). "Workspace Deleted" stays info: it is over, there
 * is nothing left to do, and mostly the person deleted it themselves. Any other name with
 * "fail" in it is an error too; the rest is the type's severity.
 */
export const CODER_NOTIFICATION_SEVERITIES: Readonly<Record<string, Severity>> = {
  'Workspace Manual Build Failed': 'error',
  'Workspace Autobuild Failed': 'error',
  'Report: Workspace Builds Failed': 'warning',
  'Workspace Marked as Dormant': 'warning',
  'Workspace Marked for Deletion': 'warning',
  'Workspace Out Of Memory': 'warning',
  'Workspace Out Of Disk': 'warning',
  'Your account has been suspended': 'warning',
  'Workspace Deleted': 'info',
};

/** Coder's name for the notification that a user account was created. */
const ACCOUNT_CREATED = 'User account created';

export function coderRoutes(ctx: SourceContext, config: CoderConfig): FastifyPluginAsync {
  return async (app) => {
    useRawBody(app);
    redactQuerySecrets(app, ['token']);
    app.post(
      '/v1/sources/coder',
      { onRequest: async (request) => unauthorized(checkToken(tokenOf(request), config.tokens, 'token (?token= or Authorization: Bearer)')) },
      async (request, reply) => {
        const message = coderMessage.parse(rawBody(request));
        const day = new Date(ctx.clock.now()).toISOString().slice(0, 10);
        return deliver(ctx, request, reply, mapCoderMessage(message, config.project, day), { source: 'coder', deliveryKey: message.msg_id, severities: config.severities });
      },
    );
  };
}

/** A token from ?token= or Authorization: Bearer (for senders that cannot set other headers). */
export function tokenOf(request: FastifyRequest, extraHeader?: string): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  if (typeof query?.token === 'string' && query.token !== '') return query.token;
  const auth = header(request, 'authorization');
  const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
  return bearer ?? (extraHeader ? header(request, extraHeader) : undefined);
}

/**
 * @param day the UTC date the message arrived (YYYY-MM-DD): Coder sends "User account created"
 *   to every admin, each copy with its own msg_id; the copies of one day share the event id, so
 *   the bell and Slack count one sign-up.
 */
export function mapCoderMessage(m: CoderMessage, project?: string, day = new Date().toISOString().slice(0, 10)): Mapped {
  // The schema is versioned semantically: a new major may move fields this mapping reads.
  const major = (m._version ?? '1').split('.')[0];
  if (major !== '1') return ignore(`Coder webhook version ${m._version ?? ''} is not understood (1.x is)`);
  const p = m.payload;
  const name = p.notification_name ?? '';
  const labels = p.labels ?? undefined;
  // The created account's username, from the labels; without it the copies to each admin cannot be matched.
  const account = name === ACCOUNT_CREATED ? labels?.created_account_name : undefined;
  const type: keyof typeof CODER_EVENT_TYPES = account ? 'user.created' : 'notification.sent';
  const severity = type === 'notification.sent' ? (CODER_NOTIFICATION_SEVERITIES[name] ?? (/fail/i.test(name) ? 'error' : CODER_EVENT_TYPES[type])) : CODER_EVENT_TYPES[type];
  const input: EventInput = {
    type,
    id: account ? deliveryEventId('coder', `${ACCOUNT_CREATED}\n${account}\n${day}`) : m.msg_id,
    severity,
    data: compact({
      title: m.title,
      body: m.body,
      titleMarkdown: m.title_markdown,
      bodyMarkdown: m.body_markdown,
      notification: p.notification_name,
      user_email: p.user_email,
      userName: str(p.user_name),
      username: str(p.user_username),
      labels,
      account,
      accountName: account ? str(labels?.created_account_user_name) : undefined,
      createdBy: account ? str(labels?.initiator) : undefined,
      links: (p.actions ?? []).filter((a) => a.url !== '').map((a) => ({ label: a.label, url: a.url })),
    }),
  };
  // A sign-up is about the new account; every other notification about its person.
  const subject = account ?? p.user_email;
  if (subject) input.subject = subject;
  if (project) input.project = project;
  return { event: input };
}
