// Tasks (Active Collab, an app's own task events): who did it by name, which task by
// number and name, in which project. A payload that names people only by id keeps the
// id out of the sentence and in the small print.
import type { Envelope } from '../../shared/envelope.js';
import type { Draft, TemplateTable } from './spec.js';
import { clip, join, t, type Part } from './text.js';
import type { Facts } from './values.js';
import { when } from './when.js';
import { person } from './who.js';

const KINDS: Record<string, { icon: string; verb: string; by: string }> = {
  created: { icon: ':memo:', verb: 'created', by: 'createdBy' },
  completed: { icon: ':white_check_mark:', verb: 'completed', by: 'completedBy' },
  reopened: { icon: ':arrows_counterclockwise:', verb: 'reopened', by: 'reopenedBy' },
  failed: { icon: ':x:', verb: 'failed', by: 'startedBy' },
};

/** A person named by completedByName / completed_by_name / completedBy.name (or completedBy as a string), else undefined. */
function who(d: Facts, prefix: string) {
  const snake = prefix.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return person(d.s(`${prefix}Name`, `${snake}_name`, `${prefix}.name`, prefix), d.s(`${prefix}Email`, `${snake}_email`, `${prefix}.email`));
}

function idNote(d: Facts, prefix: string, label: string): Part {
  const id = d.n(`${prefix}Id`);
  return id !== undefined && !who(d, prefix) ? `${label} user ${id}` : undefined;
}

function task(kind: string) {
  return (e: Envelope, d: Facts): Draft => {
    const look = KINDS[kind] ?? { icon: ':memo:', verb: kind, by: `${kind}By` };
    const number = d.n('taskNumber', 'number');
    const name = clip(d.s('name', 'title', 'task') ?? e.subject, 140);
    const named = [number !== undefined && t`#${number}`, name && t`‘${name}’`];
    const what = join(' ', ['task', ...named]);
    const project = d.s('projectName', 'project') ?? e.project;
    const actor = who(d, look.by);
    const where = project ? t` in ${project}` : undefined;
    // "Sam Ortiz completed task #87 ‘Fix login redirect’ in Website", or without a name: "Task #87 ‘…’ completed in Website".
    const headline = actor
      ? join('', [t`${actor} ${look.verb} `, what, where])!
      : join('', [join(' ', ['Task', ...named, look.verb]), where])!;
    const assignee = who(d, 'assignee');
    return {
      icon: look.icon,
      title: join(' ', [`Task ${look.verb}`, project && t`in ${project}`])!.plain,
      headline,
      brief: join('', [actor && t`${actor}: `, what]),
      details: [kind === 'failed' ? d.s('message', 'error', 'reason') : undefined],
      fields: [
        ['Assignee', assignee],
        ['Due', when(d.at('dueOn') ?? d.at('due'))],
        ['Task list', d.s('taskListName', 'taskList')],
        ['Important', d.b('important') ? 'yes' : undefined],
      ],
      notes: [idNote(d, look.by, `${look.verb} by`), assignee ? undefined : idNote(d, 'assignee', 'assigned to'), t`task ${d.n('taskId')}`],
    };
  };
}

export const TASKS: TemplateTable = {
  'task.created': task('created'),
  'task.completed': task('completed'),
  'task.reopened': task('reopened'),
  'task.failed': task('failed'),
  'task.*': (e, d) => task(e.type.split('.').at(-1) ?? 'updated')(e, d),
};
