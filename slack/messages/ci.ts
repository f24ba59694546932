// CI runs and deploys: where (repository and branch), which run, who started it and how,
// and for a failure the jobs that failed (GitLab pipelines carry them as failedJobs).
import type { Envelope } from '../../shared/envelope.js';
import type { Draft, TemplateTable } from './spec.js';
import { clip, join, t, text, type Text } from './text.js';
import { Facts, readable, words } from './values.js';
import { duration } from './when.js';

/** The repository or project: GitHub's full name, GitLab's path, else the event's project. */
export function repoOf(e: Envelope, d: Facts): string | undefined {
  return d.s('repository', 'project', 'repo') ?? e.project;
}

function shortSha(sha: string | undefined): string | undefined {
  return sha && /^[0-9a-f]{12,}$/i.test(sha) ? sha.slice(0, 8) : sha;
}

interface Job {
  name: string;
  stage?: string | undefined;
  url?: string | undefined;
}

/** failedJobs as a list of names or of {name, stage, url} (GitLab's failed builds). */
function failedJobs(d: Facts): Job[] {
  return d.list('failedJobs').flatMap((j): Job[] => {
    if (typeof j === 'string') return [{ name: j }];
    if (!j || typeof j !== 'object') return [];
    const o = j as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const name = str(o.name);
    return name ? [{ name, stage: str(o.stage), url: str(o.url) }] : [];
  });
}

/** "rspec (test), lint (test)" and, when the list was cut, how many failed in all. */
function jobsText(d: Facts, jobs: Job[]): string | undefined {
  if (jobs.length === 0) return undefined;
  const names = readable(jobs.map((j) => (j.stage ? `${j.name} (${j.stage})` : j.name)));
  const total = d.n('failedJobCount');
  return total !== undefined && total > jobs.length ? `${names} and ${total - jobs.length} more` : names;
}

function ciRun(outcome: 'failed' | 'succeeded') {
  return (e: Envelope, d: Facts): Draft => {
    const repo = repoOf(e, d);
    const branch = d.s('branch', 'ref') ?? e.subject;
    const conclusion = d.s('conclusion');
    // GitHub's conclusions other than failure (timed_out, startup_failure) say more than "failed".
    const verb = outcome === 'succeeded' ? 'passed' : conclusion && conclusion !== 'failure' ? words(conclusion)! : 'failed';
    const where = join(' ', [repo, branch]);
    const title = join(' ', [`CI ${verb}`, where && t`on ${where}`])!.plain;
    const pipeline = d.n('pipeline');
    const run = pipeline !== undefined ? t`pipeline #${pipeline}` : join(' ', [d.s('workflow'), t`run #${d.n('runNumber', 'run')}`]);
    const by = d.s('actor', 'user', 'sender', 'author');
    const trigger = d.s('trigger', 'source');
    const failed = outcome === 'failed' ? failedJobs(d) : [];
    const jobs = jobsText(d, failed);
    const about = join('', [run, t` by ${by}`, t` (${words(trigger)})`, jobs && t`: ${jobs} failed`]);
    return {
      icon: outcome === 'failed' ? ':x:' : ':white_check_mark:',
      title,
      headline: join(' — ', [title, about])!,
      brief: join(' — ', [where, about]),
      fields: [
        ['Commit', join(' ', [shortSha(d.s('commit', 'sha')), d.s('commitTitle', 'commitMessage') && t`‘${clip(d.s('commitTitle', 'commitMessage'), 100)}’`])],
        ['Duration', duration(d.n('durationSeconds', 'duration'))],
      ],
      // The first failed job's log is usually what the reader wants; the pipeline button follows.
      links: failed.flatMap((j) => (j.url ? [{ label: `Job ${j.name}`, url: j.url }] : [])).slice(0, 2),
    };
  };
}

const DEPLOY: Record<string, { icon: string; label: string }> = {
  started: { icon: ':rocket:', label: 'Deploy started' },
  succeeded: { icon: ':white_check_mark:', label: 'Deployed' },
  failed: { icon: ':x:', label: 'Deploy failed' },
};

/** deploy.*: which service and version went where, by whom. */
function deploy(e: Envelope, d: Facts): Draft {
  const kind = e.type.split('.').at(-1) ?? '';
  const look = DEPLOY[kind] ?? { icon: ':rocket:', label: `Deploy ${words(kind)}` };
  const what = join(' ', [d.s('service', 'app', 'application', 'name') ?? e.project ?? e.subject, d.s('version', 'tag', 'release', 'commit')]);
  const env = d.s('environment', 'env', 'stage', 'target');
  const by = d.s('user', 'actor', 'author', 'by', 'deployer');
  const rest = join(' ', [what, env && t`to ${env}`]);
  const head: Text = join(kind === 'succeeded' ? ' ' : ': ', [look.label, rest])!;
  return {
    icon: look.icon,
    title: head.plain,
    headline: join('', [head, t` by ${by}`, t` — ${d.s('message', 'error', 'reason')}`])!,
    fields: [['Duration', duration(d.n('durationSeconds', 'duration'))]],
    notes: [text(d.s('commit'))],
  };
}

export const CI: TemplateTable = {
  'ci.failed': ciRun('failed'),
  'ci.succeeded': ciRun('succeeded'),
  'deploy.*': deploy,
};
