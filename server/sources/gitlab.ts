// POST /v1/sources/gitlab: project and group webhooks. Checked with X-Gitlab-Token (a
// plain shared secret) and, when GitLab signs (a signing token is set on the hook), the
// Standard Webhooks headers over the raw body. The project is the project's path, so
// per-project Slack channels need no per-project setup.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput } from '../../shared/envelope.js';
import { SOURCE_TYPES } from '../../shared/event-types.js';
import { compact, deliver, header, ignore, JSON_BODY, links, PayloadSchema, PROVIDER_BODY_LIMIT, rawBody, unauthorized, useRawBody, type Mapped, type SourceContext } from './context.js';
import { checkToken, standardWebhookKey, verifyStandardWebhook } from './signatures.js';
import { at, num, str, type Json } from './values.js';

export type GitlabConfig = SourcesConfig['gitlab'];

const Project = Type.Object({ path_with_namespace: Type.String({ minLength: 1, maxLength: 200 }) });
const GitlabPayload = Type.Object({ object_kind: Type.String({ minLength: 1 }) });
const MergeRequest = Type.Object({
  object_kind: Type.Literal('merge_request'),
  project: Project,
  object_attributes: Type.Object({ iid: Type.Integer(), title: Type.String(), url: Type.String(), action: Type.Optional(Type.String()) }),
});
const Build = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  stage: Type.String(),
  status: Type.String(),
  allow_failure: Type.Optional(Type.Boolean()),
  failure_reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
const Pipeline = Type.Object({
  object_kind: Type.Literal('pipeline'),
  project: Project,
  object_attributes: Type.Object({ id: Type.Integer(), status: Type.String() }),
  builds: Type.Optional(Type.Array(Build)),
});
/** Every type this source emits, with its severity; `bellhop types` lists the same table. */
export const GITLAB_EVENT_TYPES = SOURCE_TYPES.gitlab;
/** Enough to say what broke; the pipeline link has the rest. */
const MAX_FAILED_JOBS = 10;
type GitlabType = keyof typeof GITLAB_EVENT_TYPES;
const MR_TYPES = new Map<string, GitlabType>([
  ['open', 'pr.opened'],
  ['merge', 'pr.merged'],
  ['close', 'pr.closed'],
]);
const PIPELINE_TYPES = new Map<string, GitlabType>([
  ['success', 'ci.succeeded'],
  ['failed', 'ci.failed'],
]);
const gitlabPayload = new PayloadSchema(GitlabPayload, 'a GitLab webhook payload');
const mergeRequest = new PayloadSchema(MergeRequest, 'a GitLab merge request payload');
const pipeline = new PayloadSchema(Pipeline, 'a GitLab pipeline payload');

export function gitlabRoutes(ctx: SourceContext, config: GitlabConfig): FastifyPluginAsync {
  const keys = config.signingTokens.map(standardWebhookKey);
  return async (app) => {
    useRawBody(app, JSON_BODY, PROVIDER_BODY_LIMIT);
    app.post(
      '/v1/sources/gitlab',
      {
        // The plain token needs no body: refuse before reading it.
        onRequest: async (request) => {
          if (config.tokens.length > 0) unauthorized(checkToken(header(request, 'x-gitlab-token'), config.tokens, 'X-Gitlab-Token header'));
        },
      },
      async (request, reply) => {
        const body = rawBody(request);
        const id = header(request, 'webhook-id');
        if (keys.length > 0) {
          const headers = { id, timestamp: header(request, 'webhook-timestamp'), signature: header(request, 'webhook-signature') };
          const verdict = verifyStandardWebhook(headers, body, keys, Math.floor(ctx.clock.now() / 1000), config.toleranceSeconds);
          if (!verdict.ok) unauthorized(verdict);
        }
        // The hook kind is read from the body's object_kind, never from X-Gitlab-Event: the
        // signature covers the body only, and system hooks send other header values.
        const payload = gitlabPayload.parse(body);
        // webhook-id equals Idempotency-Key, which GitLab keeps across retries of one event.
        const delivery = id ?? header(request, 'idempotency-key') ?? header(request, 'x-gitlab-event-uuid');
        return deliver(ctx, request, reply, mapGitlabEvent(payload, delivery), { source: 'gitlab', deliveryKey: delivery, severities: config.severities });
      },
    );
  };
}

export function mapGitlabEvent(payload: { object_kind: string } & Json, delivery?: string): Mapped {
  const base = (type: GitlabType, project: string, data: Json, subject?: string): Mapped => {
    const input: EventInput = {
      type,
      severity: GITLAB_EVENT_TYPES[type],
      project,
      data: compact({ project, user: str(at(payload, 'user', 'username')) ?? str(at(payload, 'user', 'name')), ...data }),
    };
    if (delivery && delivery.length <= 200) input.id = delivery;
    if (subject) input.subject = subject;
    return { event: input };
  };
  switch (payload.object_kind) {
    case 'merge_request': {
      const p = mergeRequest.check(payload);
      const mr = p.object_attributes as typeof p.object_attributes & Json;
      const type = MR_TYPES.get(mr.action ?? '');
      if (!type) return ignore(`GitLab merge request action "${mr.action ?? ''}" is not mapped`);
      return base(
        type,
        p.project.path_with_namespace,
        {
          number: mr.iid,
          title: mr.title,
          url: mr.url,
          sourceBranch: str(mr.source_branch),
          targetBranch: str(mr.target_branch),
          links: links(['View merge request', mr.url]),
        },
        `!${mr.iid}`,
      );
    }
    case 'pipeline': {
      const p = pipeline.check(payload);
      const run = p.object_attributes as typeof p.object_attributes & Json;
      const type = PIPELINE_TYPES.get(run.status);
      if (!type) return ignore(`GitLab pipeline status "${run.status}" is not mapped`);
      const web = str(at(p, 'project', 'web_url')) ?? '';
      const url = str(run.url) ?? `${web}/-/pipelines/${run.id}`;
      // Allowed failures do not fail a pipeline, so they are not what broke it.
      const failed = (p.builds ?? []).filter((b) => b.status === 'failed' && b.allow_failure !== true);
      return base(
        type,
        p.project.path_with_namespace,
        {
          pipeline: run.id,
          status: run.status,
          ref: str(run.ref),
          commit: str(run.sha),
          commitTitle: str(at(p, 'commit', 'title')),
          trigger: str(run.source),
          durationSeconds: num(run.duration),
          url,
          failedJobs:
            type === 'ci.failed'
              ? failed.slice(0, MAX_FAILED_JOBS).map((b) => compact({ id: b.id, name: b.name, stage: b.stage, failureReason: b.failure_reason, url: web ? `${web}/-/jobs/${b.id}` : undefined }))
              : undefined,
          failedJobCount: type === 'ci.failed' && failed.length > MAX_FAILED_JOBS ? failed.length : undefined,
          links: links(['View pipeline', url]),
        },
        str(run.ref),
      );
    }
    default:
      return ignore(`GitLab ${payload.object_kind} hook is not mapped`);
  }
}
