// POST /v1/sources/coder: Coder's notification webhook (CODER_NOTIFICATIONS_WEBHOOK_ENDPOINT).
// Coder does not sign it and can send no custom header, so the endpoint URL carries a
// token (?token=...). Each notification is for one person: data.user_email lets the
// Slack sink send it as a DM, its actions become buttons, and msg_id is the dedup key
// and the envelope id.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput, Severity } from '../../shared/envelope.js';
import { compact, deliver, redactQuerySecrets, header, ignore, PayloadSchema, rawBody, unauthorized, useRawBody, type Mapped, type SourceContext } from './context.js';
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
    user_email: Type.Optional(Type.String()),
    user_name: Type.Optional(Type.String()),
    user_username: Type.Optional(Type.String()),
    actions: Type.Optional(Type.Union([Type.Array(Action), Type.Null()])),
    labels: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
  }),
});
const coderMessage = new PayloadSchema(CoderMessage, 'a Coder notification');
export type CoderMessage = ReturnType<typeof coderMessage.check>;

/** Every type this source emits, with its usual severity; `bellhop types` lists the same table. */
export const CODER_EVENT_TYPES = { 'notification.sent': 'info' } as const satisfies Readonly<Record<string, Severity>>;

export function coderRoutes(ctx: SourceContext, config: CoderConfig): FastifyPluginAsync {
  return async (app) => {
    useRawBody(app);
    redactQuerySecrets(app, ['token']);
    app.post(
      '/v1/sources/coder',
      { onRequest: async (request) => unauthorized(checkToken(tokenOf(request), config.tokens, 'token (?token= or Authorization: Bearer)')) },
      async (request, reply) => {
        const message = coderMessage.parse(rawBody(request));
        return deliver(ctx, request, reply, mapCoderMessage(message, config.project), { source: 'coder', deliveryKey: message.msg_id });
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

export function mapCoderMessage(m: CoderMessage, project?: string): Mapped {
  // The schema is versioned semantically: a new major may move fields this mapping reads.
  const major = (m._version ?? '1').split('.')[0];
  if (major !== '1') return ignore(`Coder webhook version ${m._version ?? ''} is not understood (1.x is)`);
  const p = m.payload;
  const name = p.notification_name ?? '';
  const input: EventInput = {
    type: 'notification.sent' satisfies keyof typeof CODER_EVENT_TYPES,
    id: m.msg_id,
    // Build failures are worth a look; the rest is information for the person.
    severity: /fail/i.test(name) ? 'warning' : CODER_EVENT_TYPES['notification.sent'],
    data: compact({
      title: m.title,
      body: m.body,
      titleMarkdown: m.title_markdown,
      bodyMarkdown: m.body_markdown,
      notification: p.notification_name,
      user_email: p.user_email,
      userName: str(p.user_name),
      username: str(p.user_username),
      labels: p.labels ?? undefined,
      links: (p.actions ?? []).filter((a) => a.url !== '').map((a) => ({ label: a.label, url: a.url })),
    }),
  };
  if (p.user_email) input.subject = p.user_email;
  if (project) input.project = project;
  return { event: input };
}
