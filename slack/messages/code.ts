// Pull and merge requests and releases, said the way a person would: who did what to
// which request, in which repository, between which branches.
import type { Envelope } from '../../shared/envelope.js';
import type { Draft, TemplateTable } from './spec.js';
import { clip, join, t, type Text } from './text.js';
import { repoOf } from './ci.js';
import type { Facts } from './values.js';

const VERBS = {
  'pr.opened': { icon: ':eyes:', verb: 'opened' },
  'pr.merged': { icon: ':twisted_rightwards_arrows:', verb: 'merged' },
  'pr.closed': { icon: ':no_entry_sign:', verb: 'closed' },
} as const;

/** GitLab calls them merge requests, numbered !42; GitHub pull requests, #1347. */
function requestName(e: Envelope, d: Facts): { noun: string; ref: string | undefined } {
  const gitlab = e.source.startsWith('gitlab') || d.s('sourceBranch') !== undefined;
  const n = d.n('number', 'iid');
  return { noun: gitlab ? 'merge request' : 'pull request', ref: n === undefined ? e.subject : `${gitlab ? '!' : '#'}${n}` };
}

function request(type: keyof typeof VERBS) {
  return (e: Envelope, d: Facts): Draft => {
    const { icon, verb } = VERBS[type];
    const { noun, ref } = requestName(e, d);
    const repo = repoOf(e, d);
    const title = clip(d.s('title'), 120);
    const author = d.s('author', 'user', 'sender');
    const actor = type === 'pr.merged' ? (d.s('mergedBy', 'user', 'sender') ?? author) : type === 'pr.closed' ? (d.s('closedBy', 'sender', 'user') ?? author) : author;
    const head = d.s('headBranch', 'sourceBranch');
    const base = d.s('baseBranch', 'targetBranch');
    const branches = head && base ? t`${head} → ${base}` : undefined;
    const what: Text = join(' ', [noun === 'merge request' ? 'MR' : 'PR', ref, title && t`‘${title}’`])!;
    const byAuthor = type !== 'pr.opened' && author && author !== actor ? t` by ${author}` : undefined;
    const unmerged = type === 'pr.closed' ? ' without merging' : '';
    return {
      icon,
      title: join(' ', [`${noun.charAt(0).toUpperCase()}${noun.slice(1)} ${verb}`, repo && t`in ${repo}`])!.plain,
      headline: join('', [actor ? t`${actor} ${verb} ` : `${verb.charAt(0).toUpperCase()}${verb.slice(1)} `, what, byAuthor, unmerged, repo && t` in ${repo}`, branches && t` (${branches})`])!,
      fields: [['Draft', d.b('draft') ? 'yes' : undefined]],
    };
  };
}

function release(e: Envelope, d: Facts): Draft {
  const repo = repoOf(e, d);
  const tag = d.s('tag') ?? e.subject;
  const name = d.s('name');
  const kind = d.b('prerelease') ? 'pre-release' : 'release';
  const what = join(' ', [tag, name && name !== tag && t`‘${clip(name, 120)}’`]);
  const author = d.s('author', 'sender');
  return {
    icon: ':label:',
    title: join(' ', [`Released ${tag ?? ''}`.trim(), repo && t`in ${repo}`])!.plain,
    headline: join('', [author ? t`${author} published ${kind} ` : `Published ${kind} `, what, repo && t` of ${repo}`])!,
  };
}

export const CODE: TemplateTable = {
  'pr.opened': request('pr.opened'),
  'pr.merged': request('pr.merged'),
  'pr.closed': request('pr.closed'),
  'release.published': release,
};
