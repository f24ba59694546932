// The catalogue of event types bellhop knows. The server refuses types outside it
// (plus server.eventTypes) so a typo like "user.sigup" fails loudly instead of
// silently ringing nothing.
import type { Severity } from './config/sections/common.js';

export const EVENT_TYPES: Readonly<Record<string, string>> = {
  'user.signup': 'A new customer signed up.',
  'user.created': 'A user account was created for someone (e.g. by an admin in Coder).',
  'user.login': 'A user logged in.',
  'payment.succeeded': 'A payment went through.',
  'payment.failed': 'A payment failed.',
  'payment.refunded': 'A payment was refunded, in part or in full.',
  'payment.disputed': 'A customer disputed a payment with their bank (a chargeback).',
  'checkout.completed': 'A customer completed a checkout.',
  'subscription.created': 'A subscription started.',
  'subscription.upgraded': 'A subscription moved to a higher plan.',
  'subscription.downgraded': 'A subscription moved to a lower plan.',
  'subscription.canceled': 'A subscription was canceled.',
  'subscription.paused': 'A subscription was paused.',
  'subscription.resumed': 'A paused subscription was resumed.',
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

/**
 * What each webhook source emits, with the severity it gives each type: a failed build or
 * payment is an error, revenue at risk (churn, a downgrade, a pause, a trial about to end)
 * a warning. The adapters map with these tables and `bellhop types` and docs/sources.md
 * list them; they live here, not in server/sources, because the config check of
 * sources.<name>.severities needs them and shared/ imports no part.
 */
export const SOURCE_TYPES = {
  stripe: {
    'payment.succeeded': 'info',
    'payment.failed': 'error',
    'payment.refunded': 'info',
    'payment.disputed': 'error',
    'checkout.completed': 'info',
    'customer.created': 'info',
    'subscription.created': 'info',
    'subscription.upgraded': 'info',
    'subscription.downgraded': 'warning',
    'subscription.canceled': 'warning',
    'subscription.paused': 'warning',
    'subscription.resumed': 'info',
    'trial.ending': 'warning',
  },
  github: {
    'pr.opened': 'info',
    'pr.merged': 'info',
    'pr.closed': 'info',
    'ci.succeeded': 'info',
    'ci.failed': 'error',
    'release.published': 'info',
  },
  gitlab: {
    'pr.opened': 'info',
    'pr.merged': 'info',
    'pr.closed': 'info',
    'ci.succeeded': 'info',
    'ci.failed': 'error',
  },
  // notification.sent: the severity of a notification bellhop has no rule for (see CODER_NOTIFICATION_SEVERITIES).
  coder: { 'notification.sent': 'info', 'user.created': 'info' },
  // error.raised: the severity of a notice that names none (context.severity decides otherwise).
  airbrake: { 'error.raised': 'error' },
  activecollab: { 'task.created': 'info', 'task.completed': 'info', 'task.reopened': 'info' },
  calls: { 'call.incoming': 'info', 'call.outgoing': 'info' },
} as const satisfies Readonly<Record<string, Readonly<Record<string, Severity>>>>;

export type SourceName = keyof typeof SOURCE_TYPES;

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
