// People by name and e-mail before ids: "Ana Li (ana@example.com)", else whichever of
// the three the payload carries. (slack/people.ts is a different job: Slack user ids.)
import { t, text, type Text } from './text.js';

export function person(name: string | undefined, email: string | undefined, id?: string): Text | undefined {
  if (name && email && name !== email) return t`${name} (${email})`;
  return text(name ?? email ?? id);
}

/** True when a person was named by more than an id, so the id can go to the small print. */
export function named(name: string | undefined, email: string | undefined): boolean {
  return Boolean(name || email);
}
