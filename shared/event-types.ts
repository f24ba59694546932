// The catalogue of event types bellhop knows. The server refuses types outside it
// (plus server.eventTypes) so a typo like "user.sigup" fails loudly instead of
// silently ringing nothing.
export const EVENT_TYPES: Readonly<Record<string, string>> = {
  'user.signup': 'A new customer signed up.',
  'user.login': 'A user logged in.',
  'payment.succeeded': 'A payment went through.',
  'payment.failed': 'A payment failed.',
  'subscription.created': 'A subscription started.',
  'subscription.upgraded': 'A subscription moved to a higher plan.',
  'subscription.downgraded': 'A subscription moved to a lower plan.',
  'subscription.canceled': 'A subscription was canceled.',
  'customer.created': 'A billing customer was created.',
  'deal.won': 'A sales deal was won.',
  'trial.ending': 'A trial ends soon.',
  'error.raised': 'An application error was reported.',
  'deploy.started': 'A deploy started.',
  'deploy.succeeded': 'A deploy finished.',
  'deploy.failed': 'A deploy failed.',
  'pr.opened': 'A pull/merge request was opened.',
  'pr.merged': 'A pull/merge request was merged.',
  'pr.closed': 'A pull/merge request was closed unmerged.',
  'ci.succeeded': 'A CI pipeline/workflow succeeded.',
  'ci.failed': 'A CI pipeline/workflow failed.',
  'release.published': 'A release was published.',
  'task.created': 'A task was created.',
  'task.completed': 'A task or job completed.',
  'task.reopened': 'A task was reopened.',
  'task.failed': 'A scheduled task or job failed.',
  'call.incoming': 'A phone call came in.',
  'call.outgoing': 'A phone call went out.',
  'notification.sent': 'A notification for a person (e.g. from Coder).',
  'beacon.received': 'A front-end event from a browser.',
  'bell.test': 'A test ding.',
};

/** True when the type is in the catalogue or matches one of the extra globs. */
export function makeTypeFilter(extra: readonly string[]): (type: string) => boolean {
  const patterns = extra.map(globToRegExp);
  return (type) => type in EVENT_TYPES || patterns.some((p) => p.test(type));
}

/** `*` matches within one dotted segment, `**` across segments. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('**')
    .map((part) => part.split('*').map(escape).join('[^.]*'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
