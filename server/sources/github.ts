// POST /v1/sources/github: repository webhooks, verified with X-Hub-Signature-256 over
// the raw body. Pull requests, finished workflow runs and releases; the project is the
// repository's full name, and X-GitHub-Delivery is the dedup key and the envelope id.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput } from '../../shared/envelope.js';
import { HttpError } from '../errors.js';
import { SOURCE_TYPES } from '../../shared/event-types.js';
import { compact, deliver, header, ignore, links, PayloadSchema, PROVIDER_BODY_LIMIT, rawBody, unauthorized, useRawBody, type Mapped, type SourceContext } from './context.js';
import { verifyGithub } from './signatures.js';
import { at, bool, num, str, type Json } from './values.js';

export type GithubConfig = SourcesConfig['github'];

const Repository = Type.Object({ full_name: Type.String({ minLength: 1, maxLength: 200 }) });
const GithubPayload = Type.Object({
  action: Type.Optional(Type.String()),
  repository: Type.Optional(Repository),
  sender: Type.Optional(Type.Object({ login: Type.String() })),
});
const githubPayload = new PayloadSchema(GithubPayload, 'a GitHub webhook payload');

const PullRequest = Type.Object({
  action: Type.String(),
  repository: Repository,
  pull_request: Type.Object({ number: Type.Integer(), title: Type.String(), html_url: Type.String(), merged: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])) }),
});
const WorkflowRun = Type.Object({
  action: Type.String(),
  repository: Repository,
  workflow_run: Type.Object({ name: Type.Union([Type.String(), Type.Null()]), conclusion: Type.Union([Type.String(), Type.Null()]), html_url: Type.String() }),
});
const Release = Type.Object({
  action: Type.String(),
  repository: Repository,
  release: Type.Object({ tag_name: Type.String(), html_url: Type.String() }),
});
const pullRequest = new PayloadSchema(PullRequest, 'a GitHub pull_request payload');
const workflowRun = new PayloadSchema(WorkflowRun, 'a GitHub workflow_run payload');
const release = new PayloadSchema(Release, 'a GitHub release payload');

/** Every type this source emits, with its severity; `bellhop types` lists the same table. */
export const GITHUB_EVENT_TYPES = SOURCE_TYPES.github;

// GitHub's two content types; the signature covers the form as sent.
const GITHUB_BODY = { types: ['application/json', 'application/x-www-form-urlencoded'], hint: 'as JSON (Content-Type: application/json) or as GitHub\'s form (application/x-www-form-urlencoded)' };

export function githubRoutes(ctx: SourceContext, config: GithubConfig): FastifyPluginAsync {
  return async (app) => {
    useRawBody(app, GITHUB_BODY, PROVIDER_BODY_LIMIT);
    app.post('/v1/sources/github', async (request, reply) => {
      const body = rawBody(request);
      unauthorized(verifyGithub(header(request, 'x-hub-signature-256'), body, config.secrets));
      const kind = header(request, 'x-github-event');
      if (!kind) throw new HttpError('bad_request', 'missing X-GitHub-Event header');
      const delivery = header(request, 'x-github-delivery');
      const payload = githubPayload.parse(jsonOf(request.headers['content-type'], body));
      return deliver(ctx, request, reply, mapGithubEvent(kind, payload, delivery), { source: 'github', deliveryKey: delivery, severities: config.severities });
    });
  };
}

/** GitHub's default content type is a form whose `payload` field holds the JSON; the signature covers the form. */
function jsonOf(contentType: string | undefined, body: Buffer): Buffer | string {
  if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) return body;
  const payload = new URLSearchParams(body.toString('utf8')).get('payload');
  if (payload === null) throw new HttpError('invalid_payload', 'form body has no payload field');
  return payload;
}

export function mapGithubEvent(kind: string, payload: unknown, delivery?: string): Mapped {
  const base = (type: keyof typeof GITHUB_EVENT_TYPES, p: { repository: { full_name: string } }, data: Json, subject?: string): Mapped => {
    const input: EventInput = {
      type,
      severity: GITHUB_EVENT_TYPES[type],
      project: p.repository.full_name,
      data: compact({ repository: p.repository.full_name, sender: str(at(p, 'sender', 'login')), ...data }),
    };
    if (delivery && delivery.length <= 200) input.id = delivery;
    if (subject) input.subject = subject;
    return { event: input };
  };
  switch (kind) {
    case 'ping':
      return ignore('GitHub ping (the webhook works)');
    case 'pull_request': {
      const p = pullRequest.check(payload);
      const pr = p.pull_request as typeof p.pull_request & Json;
      const type = p.action === 'opened' ? 'pr.opened' : p.action === 'closed' ? (pr.merged ? 'pr.merged' : 'pr.closed') : undefined;
      if (!type) return ignore(`GitHub pull_request action "${p.action}" is not mapped`);
      return base(
        type,
        p,
        {
          number: pr.number,
          title: pr.title,
          url: pr.html_url,
          author: str(at(pr, 'user', 'login')),
          mergedBy: type === 'pr.merged' ? str(at(pr, 'merged_by', 'login')) : undefined,
          baseBranch: str(at(pr, 'base', 'ref')),
          headBranch: str(at(pr, 'head', 'ref')),
          draft: bool(pr.draft),
          links: links(['View pull request', pr.html_url]),
        },
        `#${pr.number}`,
      );
    }
    case 'workflow_run': {
      const p = workflowRun.check(payload);
      if (p.action !== 'completed') return ignore(`GitHub workflow_run action "${p.action}" is not mapped`);
      const run = p.workflow_run as typeof p.workflow_run & Json;
      const conclusion = run.conclusion ?? '';
      const type = conclusion === 'success' ? 'ci.succeeded' : ['failure', 'timed_out', 'startup_failure'].includes(conclusion) ? 'ci.failed' : undefined;
      if (!type) return ignore(`GitHub workflow run concluded "${conclusion}", which is not mapped`);
      return base(type, p, {
        workflow: run.name ?? undefined,
        conclusion,
        branch: str(run.head_branch),
        commit: str(run.head_sha),
        runNumber: num(run.run_number),
        trigger: str(run.event),
        actor: str(at(run, 'actor', 'login')),
        url: run.html_url,
        links: links(['View run', run.html_url]),
      }, str(run.head_branch));
    }
    case 'release': {
      const p = release.check(payload);
      if (p.action !== 'published') return ignore(`GitHub release action "${p.action}" is not mapped`);
      const r = p.release as typeof p.release & Json;
      return base('release.published', p, {
        tag: r.tag_name,
        name: str(r.name),
        prerelease: bool(r.prerelease),
        author: str(at(r, 'author', 'login')),
        url: r.html_url,
        links: links(['View release', r.html_url]),
      }, r.tag_name);
    }
    default:
      return ignore(`GitHub event "${kind}" is not mapped`);
  }
}
