// POST /api/v3/projects/:id/notices: Airbrake's notifier API v3 (Errbit speaks it too), so
// an app with an Airbrake notifier points its host at bellhop and changes nothing else.
// Each notice becomes error.raised with a fingerprint (error type + message + top frame)
// that the Slack sink groups repeats on. Airbrake notices carry no delivery id, so they
// are not deduplicated: two identical errors are two occurrences.
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput, Severity } from '../../shared/envelope.js';
import { SOURCE_TYPES } from '../../shared/event-types.js';
import { compact, deliver, redactQuerySecrets, ignore, PayloadSchema, rawBody, unauthorized, useRawBody, type Mapped, type SourceContext } from './context.js';
import { tokenOf } from './coder.js';
import { anyEquals } from './signatures.js';
import { at, num, str } from './values.js';

export type AirbrakeConfig = SourcesConfig['airbrake'];
type AirbrakeProject = AirbrakeConfig['projects'][number];

const Frame = Type.Object({
  file: Type.Optional(Type.String()),
  line: Type.Optional(Type.Number()),
  column: Type.Optional(Type.Number()),
  function: Type.Optional(Type.String()),
});
const Notice = Type.Object({
  errors: Type.Array(
    Type.Object({
      type: Type.Optional(Type.String()),
      message: Type.Optional(Type.String()),
      backtrace: Type.Optional(Type.Union([Type.Array(Frame), Type.Null()])),
    }),
    { minItems: 1 },
  ),
  // The fields the mapping reads, typed; the rest (params, session…) is never read.
  context: Type.Optional(
    Type.Object({
      environment: Type.Optional(Type.String()),
      severity: Type.Optional(Type.String()),
      component: Type.Optional(Type.String()),
      action: Type.Optional(Type.String()),
      route: Type.Optional(Type.String()),
      url: Type.Optional(Type.String()),
      hostname: Type.Optional(Type.String()),
      version: Type.Optional(Type.String()),
      user: Type.Optional(Type.Object({ id: Type.Optional(Type.Union([Type.String(), Type.Number()])) })),
      notifier: Type.Optional(Type.Object({ name: Type.Optional(Type.String()) })),
    }),
  ),
});
const notice = new PayloadSchema(Notice, 'an Airbrake v3 notice');
export type AirbrakeNotice = ReturnType<typeof notice.check>;

export function airbrakeRoutes(ctx: SourceContext, config: AirbrakeConfig): FastifyPluginAsync {
  const byId = new Map(config.projects.map((p) => [p.id, p]));
  return async (app) => {
    useRawBody(app);
    redactQuerySecrets(app, ['key', 'token']);
    app.post<{ Params: { projectId: string } }>(
      '/api/v3/projects/:projectId/notices',
      {
        onRequest: async (request) => {
          const project = byId.get(request.params.projectId);
          const key = (request.query as Record<string, unknown>).key;
          const given = typeof key === 'string' && key !== '' ? key : (tokenOf(request, 'x-airbrake-token') ?? '');
          // Compare even for an unknown project id, so the answer time says nothing about ids.
          const ok = anyEquals([given], [project?.key ?? '\u0000no-such-project']) && project !== undefined && given !== '';
          if (!ok) unauthorized({ ok: false, reason: given === '' ? 'missing project key (?key=, Authorization: Bearer or X-Airbrake-Token)' : 'unknown project id or key' });
        },
      },
      async (request, reply) => {
        const project = byId.get(request.params.projectId)!;
        const mapped = mapAirbrakeNotice(notice.parse(rawBody(request)), project, config.ignoreEnvironments);
        return deliver(ctx, request, reply, mapped, {
          source: `airbrake/${project.id}`,
          severities: config.severities,
          status: 201,
          // What Airbrake answers, so notifiers log a success; there is no dashboard URL to give.
          answer: (id) => ({ id, url: `urn:bellhop:event:${id}` }),
        });
      },
    );
  };
}

/** Every type this source emits, with the severity of a notice that names none; `bellhop types` lists the same table. */
export const AIRBRAKE_EVENT_TYPES = SOURCE_TYPES.airbrake;

const SEVERITY: Record<string, Severity> = {
  emergency: 'critical',
  alert: 'critical',
  critical: 'critical',
  error: 'error',
  warning: 'warning',
  notice: 'warning',
  info: 'info',
  debug: 'info',
};

export function mapAirbrakeNotice(n: AirbrakeNotice, project: AirbrakeProject, ignoreEnvironments: readonly string[]): Mapped {
  const context = n.context ?? {};
  const environment = str(context.environment);
  const user = context.user ?? {};
  if (environment && ignoreEnvironments.includes(environment)) return ignore(`Airbrake notice from the ${environment} environment`);
  const error = n.errors[0]!;
  const errorType = error.type || 'Error';
  const message = error.message ?? '';
  const frames = error.backtrace ?? [];
  const top = frames[0];
  const declared = str(context.severity)?.toLowerCase();
  const severity: Severity = (declared && Object.hasOwn(SEVERITY, declared) ? SEVERITY[declared] : undefined) ?? AIRBRAKE_EVENT_TYPES['error.raised'];
  const input: EventInput = {
    type: 'error.raised' satisfies keyof typeof AIRBRAKE_EVENT_TYPES,
    severity,
    project: project.name ?? `airbrake-${project.id}`,
    subject: errorType.slice(0, 500),
    data: compact({
      errorType,
      message: message.slice(0, 2000),
      fingerprint: fingerprint(errorType, message, top),
      topFrame: top ? compact({ file: top.file, line: top.line, function: top.function }) : undefined,
      backtrace: frames.slice(0, 10).map(frameText),
      environment,
      component: str(context.component),
      action: str(context.action),
      route: str(context.route),
      url: str(context.url),
      hostname: str(context.hostname),
      appVersion: str(context.version),
      userId: str(user.id),
      userName: str(at(user, 'name')),
      userEmail: str(at(user, 'email')),
      notifier: str(context.notifier?.name),
      // params, session and environment variables are not forwarded: they often hold secrets.
    }),
  };
  return { event: input };
}

/** Groups occurrences of one error: type, message and the frame it was raised in. */
export function fingerprint(type: string, message: string, top: { file?: string; line?: number; function?: string } | undefined): string {
  const frame = top ? `${top.file ?? ''}:${num(top.line) ?? ''}:${top.function ?? ''}` : '';
  return createHash('sha256').update(`${type}\n${message}\n${frame}`).digest('hex').slice(0, 32);
}

function frameText(f: { file?: string; line?: number; column?: number; function?: string }): string {
  const where = [f.file ?? '?', f.line, f.column].filter((x) => x !== undefined).join(':');
  return f.function ? `${f.function} (${where})` : where;
}
