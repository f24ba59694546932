// Which events count as "the same error again": the sender's own fingerprint when it
// gives one (data.fingerprint), else the type, source, project, subject and message.
import { createHash } from 'node:crypto';
import type { Envelope } from '../shared/envelope.js';
import { globToRegExp } from '../shared/event-types.js';
import { display } from './escape.js';

export function fingerprintOf(event: Envelope): string {
  const given = event.data?.fingerprint;
  if (typeof given === 'string' && given.trim() !== '') return `given:${given.trim()}`;
  const message = event.data?.message ?? event.data?.error ?? event.data?.title ?? '';
  const parts = [event.type, event.source, event.project ?? '', event.subject ?? '', display(message)];
  return `hash:${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;
}

/** A predicate for the event types whose repeats are threaded. */
export function threadedTypes(globs: readonly string[]): (type: string) => boolean {
  const patterns = globs.map(globToRegExp);
  return (type) => patterns.some((p) => p.test(type));
}
