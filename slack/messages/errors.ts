// Application errors (Airbrake notices, an app's own error.raised): the error and its
// message first, then where it happened (project, environment, route), then the code
// location and the rest as fields.
import type { Envelope } from '../../shared/envelope.js';
import type { Draft, TemplateTable } from './spec.js';
import { clip, join, t, text } from './text.js';
import type { Facts } from './values.js';

function location(d: Facts): string | undefined {
  const file = d.s('topFrame.file', 'file');
  if (!file) return undefined;
  const line = d.n('topFrame.line', 'line');
  const fn = d.s('topFrame.function', 'function');
  const at = line === undefined ? file : `${file}:${line}`;
  return fn ? `${fn} (${at})` : at;
}

function errorRaised(e: Envelope, d: Facts): Draft {
  const kind = d.s('errorType', 'error', 'exception', 'class') ?? e.subject;
  const message = clip(d.s('message', 'summary', 'description', 'text'), 500);
  const env = d.s('environment', 'env');
  const place = join(' ', [e.project, env && env !== 'production' ? t`(${env})` : undefined]);
  const route = d.s('route', 'path', 'action');
  const where = join(', ', [place, route]);
  // Without an error class the message says what happened on its own ("TypeError: x is undefined").
  const head = message ? join(': ', [kind, message])! : text(kind ?? 'An error was reported')!;
  const title = join(' ', [kind ?? 'Error', e.project && t`in ${e.project}`])!.plain;
  return {
    icon: ':boom:',
    title,
    headline: join(' — ', [head, where])!,
    brief: join(' — ', [head, route]),
    fields: [
      ['Where', location(d)],
      ['URL', d.s('url')],
      ['Environment', env],
      ['Host', d.s('hostname', 'host')],
      ['Version', d.s('appVersion', 'version', 'release')],
      ['User', d.s('userEmail', 'user_email', 'userId', 'user')],
    ],
    notes: [d.s('component') && d.s('action') ? `${d.s('component')}#${d.s('action')}` : undefined, d.s('notifier')],
  };
}

export const ERRORS: TemplateTable = {
  'error.*': errorRaised,
};
