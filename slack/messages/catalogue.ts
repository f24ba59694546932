// The built-in templates, one table per family of event types. An exact type wins over
// a family key ("payment.*"); a type no family knows gets the generic template.
import type { Envelope } from '../../shared/envelope.js';
import type { Draft, Template, TemplateTable } from './spec.js';
import { BILLING } from './billing.js';
import { PLANS } from './plans.js';
import { CI } from './ci.js';
import { CODE } from './code.js';
import { ERRORS } from './errors.js';
import { CODER } from './coder.js';
import { TASKS } from './tasks.js';
import { CALLS } from './calls.js';
import { GENERIC, generic } from './generic.js';
import { Facts } from './values.js';

export const BUILT_IN: TemplateTable = { ...BILLING, ...PLANS, ...CI, ...CODE, ...ERRORS, ...CODER, ...TASKS, ...CALLS, ...GENERIC };

export function templateFor(type: string, table: TemplateTable = BUILT_IN): Template {
  if (Object.hasOwn(table, type)) return table[type]!;
  const segments = type.split('.');
  for (let i = segments.length - 1; i > 0; i--) {
    const family = `${segments.slice(0, i).join('.')}.*`;
    if (Object.hasOwn(table, family)) return table[family]!;
  }
  return generic;
}

/** The built-in draft of an event's message; a template that throws on odd data falls back to the generic one. */
export function draftOf(event: Envelope): Draft {
  const facts = new Facts(event);
  try {
    return templateFor(event.type)(event, facts);
  } catch {
    return generic(event, facts);
  }
}
