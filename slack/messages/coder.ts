// Coder notifications: the notification's own title says what happened; the person it is
// for goes by name and e-mail; its labels become a few named fields instead of a JSON
// blob, and the body is shown once (the Markdown one, in Slack's mrkdwn).
import type { Envelope } from '../../shared/envelope.js';
import { mrkdwn } from '../escape.js';
import type { Draft, TemplateTable } from './spec.js';
import { clip, join, markup, t, text, type Text } from './text.js';
import type { Facts } from './values.js';
import { person } from './who.js';

/** Coder's labels, by what people call them; others are left out. */
const LABELS: Array<[key: string, label: string]> = [
  ['name', 'Workspace'],
  ['template_name', 'Template'],
  ['template_version_name', 'Version'],
  ['workspace_build_number', 'Build'],
  ['initiator', 'Started by'],
  ['reason', 'Reason'],
];

/** The body without its greeting ("Hi Sam,"), which reads oddly in a channel. */
function bodyOf(d: Facts): Text | undefined {
  const md = d.s('bodyMarkdown', 'body_markdown');
  const plain = d.s('body', 'message');
  const strip = (s: string) => s.replace(/^(hi|hello|hey)\b[^\n]*,\s*\n+/i, '').trim();
  if (md) {
    // Markdown's **bold** is Slack's *bold*; everything else is escaped as text.
    const slack = mrkdwn(strip(md)).replace(/\*\*(.+?)\*\*/g, '*$1*');
    return markup(clip(slack, 2500)!, strip(plain ?? md.replaceAll('**', '')));
  }
  return plain ? text(clip(strip(plain), 2500)) : undefined;
}

function notification(e: Envelope, d: Facts): Draft {
  const title = d.s('title', 'titleMarkdown') ?? e.subject ?? d.s('notification') ?? 'Notification';
  const who = person(d.s('userName', 'user_name'), d.s('user_email', 'userEmail'), d.s('username'));
  const failed = /fail/i.test(d.s('notification') ?? title);
  return {
    icon: failed ? ':x:' : ':bell:',
    title: clip(title, 140)!,
    headline: join(' — ', [title, who])!,
    details: [bodyOf(d)],
    fields: LABELS.map(([key, label]) => [label, key === 'workspace_build_number' ? t`#${d.s(`labels.${key}`)}` : d.s(`labels.${key}`)]),
    notes: [d.s('notification')],
  };
}

export const CODER: TemplateTable = {
  'notification.*': notification,
};
