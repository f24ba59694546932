// POST /v1/sources/activecollab: Active Collab's Webhooks add-on. The secret set on the
// webhook arrives as X-Angie-WebhookSecret. Only the task kinds listed in the config are
// kept (Active Collab's own integrations post every edit); the rest is answered and ignored.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput } from '../../shared/envelope.js';
import { SOURCE_TYPES } from '../../shared/event-types.js';
import { compact, deliver, header, ignore, isoFromSeconds, links, PayloadSchema, rawBody, unauthorized, useRawBody, type Mapped, type SourceContext } from './context.js';
import { checkToken } from './signatures.js';
import { bool, num, str } from './values.js';

export type ActiveCollabConfig = SourcesConfig['activecollab'];

const Maybe = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
// Active Collab writes 0 for "nobody" in its *_id fields.
const UserId = Maybe(Type.Integer({ minimum: 0 }));
const ActiveCollabEvent = Type.Object({
  type: Type.String({ minLength: 1 }),
  timestamp: Type.Optional(Type.Number()),
  payload: Type.Object({
    id: Type.Integer(),
    class: Type.String(),
    name: Type.Optional(Type.String()),
    project_id: Type.Optional(Type.Integer()),
    url_path: Type.Optional(Type.String()),
    task_number: Maybe(Type.Integer()),
    task_list_id: Maybe(Type.Integer()),
    assignee_id: UserId,
    created_by_id: UserId,
    completed_by_id: UserId,
    created_by_name: Maybe(Type.String()),
    created_by_email: Maybe(Type.String()),
    is_important: Maybe(Type.Boolean()),
    due_on: Maybe(Type.Union([Type.Integer(), Type.String()])),
  }),
});
const activeCollabEvent = new PayloadSchema(ActiveCollabEvent, 'an Active Collab webhook payload');
export type ActiveCollabEvent = ReturnType<typeof activeCollabEvent.check>;

/** Every type this source emits, with its severity; `bellhop types` lists the same table. */
export const ACTIVECOLLAB_EVENT_TYPES = SOURCE_TYPES.activecollab;
const TYPES = new Map<string, keyof typeof ACTIVECOLLAB_EVENT_TYPES>([
  ['TaskCreated', 'task.created'],
  ['TaskCompleted', 'task.completed'],
  ['TaskReopened', 'task.reopened'],
]);

export function activeCollabRoutes(ctx: SourceContext, config: ActiveCollabConfig): FastifyPluginAsync {
  return async (app) => {
    useRawBody(app);
    app.post(
      '/v1/sources/activecollab',
      { onRequest: async (request) => unauthorized(checkToken(header(request, 'x-angie-webhooksecret'), config.secrets, 'X-Angie-WebhookSecret header')) },
      async (request, reply) => {
        const event = activeCollabEvent.parse(rawBody(request));
        // Active Collab sends no delivery id; a retry repeats the same kind, object and time.
        const key = `${event.type}:${event.payload.class}:${event.payload.id}:${event.timestamp ?? ''}`;
        return deliver(ctx, request, reply, mapActiveCollabEvent(event, config), { source: 'activecollab', deliveryKey: key, severities: config.severities });
      },
    );
  };
}

export function mapActiveCollabEvent(e: ActiveCollabEvent, config: Pick<ActiveCollabConfig, 'kinds' | 'baseUrl' | 'projects'>): Mapped {
  const type = TYPES.get(e.type);
  if (e.payload.class !== 'Task' || !type) return ignore(`Active Collab ${e.type} is not mapped`);
  if (!(config.kinds as readonly string[]).includes(e.type)) return ignore(`Active Collab ${e.type} is filtered out by sources.activecollab.kinds`);
  const p = e.payload as ActiveCollabEvent['payload'] & Record<string, unknown>;
  const projectId = p.project_id !== undefined ? String(p.project_id) : undefined;
  const url = config.baseUrl && p.url_path ? `${config.baseUrl.replace(/\/$/, '')}${p.url_path}` : undefined;
  const input: EventInput = {
    type,
    severity: ACTIVECOLLAB_EVENT_TYPES[type],
    subject: p.name ? p.name.slice(0, 500) : `task ${p.id}`,
    data: compact({
      taskId: p.id,
      taskNumber: num(p.task_number),
      name: p.name,
      projectId: p.project_id,
      taskListId: num(p.task_list_id),
      assigneeId: num(p.assignee_id),
      createdById: num(p.created_by_id),
      createdByName: str(p.created_by_name),
      createdByEmail: str(p.created_by_email),
      completedById: num(p.completed_by_id),
      important: bool(p.is_important),
      dueOn: isoFromSeconds(num(p.due_on)) ?? str(p.due_on),
      url,
      links: url ? links(['Open task', url]) : undefined,
    }),
  };
  const time = isoFromSeconds(e.timestamp);
  if (time) input.time = time;
  if (projectId) input.project = (Object.hasOwn(config.projects, projectId) ? config.projects[projectId] : undefined) ?? `activecollab-${projectId}`;
  return { event: input };
}
