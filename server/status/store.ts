// The recent events and their traces, in memory and bounded. Reports travel on other
// topics than the events they are about, so either may come first: a report for an
// event not seen (yet) waits in a bounded side table and joins the event when it
// arrives. Everything beyond the limits is forgotten oldest first.
import type { Envelope } from '../../shared/envelope.js';
import { globToRegExp } from '../../shared/event-types.js';
import { acceptedStep, publishedStep } from './describe.js';
import type { EventSummary, Trace, TraceStep } from './schemas.js';

export interface EventStoreOptions {
  /** Most events kept; also the most unknown event ids whose reports are held. */
  capacity: number;
  /** Most steps kept per event (many bells, Slack retries); later ones are counted as truncated. */
  maxSteps?: number;
}

export interface RecentFilter {
  /** Exact type or a glob ("user.*"). */
  type?: string | undefined;
  /** Exact source or a glob ("api/*"). */
  source?: string | undefined;
  severities?: readonly string[] | undefined;
  limit?: number | undefined;
}

interface Steps {
  list: Array<{ step: TraceStep; seq: number }>;
  keys: Set<string>;
  truncated: boolean;
}

interface Entry extends Steps {
  summary: EventSummary;
  /** Kept as cut text, not the object: its size is then bounded whatever the sender put in. */
  data: string | null;
  dataCut: boolean;
}

/** Characters of an event's data a trace shows; with status.recentEvents this bounds the memory it takes. */
export const MAX_DATA_CHARS = 4096;

export interface StepAdded {
  step: TraceStep;
  /** The event's updated summary; null while the event itself has not been seen. */
  event: EventSummary | null;
}

const DEFAULT_MAX_STEPS = 32;
const PIPELINE_FIRST: Partial<Record<TraceStep['stage'], number>> = { accepted: 0, published: 1 };

export class EventStore {
  #capacity: number;
  #maxSteps: number;
  // Maps keep insertion order: the first key is always the oldest.
  #events = new Map<string, Entry>();
  #pending = new Map<string, Steps>();
  #seq = 0;

  constructor(opts: EventStoreOptions) {
    this.#capacity = opts.capacity;
    this.#maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  }

  get size(): number {
    return this.#events.size;
  }

  get pendingSize(): number {
    return this.#pending.size;
  }

  /** Records an event seen on the broker; undefined when it was already known (a redelivery). */
  addEvent(envelope: Envelope, seen: { topic: string; at: Date; target?: string }): EventSummary | undefined {
    if (this.#events.has(envelope.id)) return undefined;
    const summary: EventSummary = {
      id: envelope.id,
      type: envelope.type,
      source: envelope.source,
      severity: envelope.severity,
      time: envelope.time,
      receivedAt: seen.at.toISOString(),
      rang: [],
      silent: [],
    };
    if (envelope.subject !== undefined) summary.subject = envelope.subject;
    if (envelope.project !== undefined) summary.project = envelope.project;
    if (seen.target !== undefined) summary.target = seen.target;
    // The pipeline's own two steps come once per event (a redelivery stops above), so they
    // skip the dedup key: this runs for every event the server accepts.
    const entry: Entry = {
      summary,
      ...shownData(envelope.data),
      list: [
        { step: acceptedStep(envelope), seq: this.#seq++ },
        { step: publishedStep(seen.topic, seen.at), seq: this.#seq++ },
      ],
      keys: new Set(),
      truncated: false,
    };
    const early = this.#pending.get(envelope.id);
    if (early) {
      this.#pending.delete(envelope.id);
      for (const { step } of early.list) this.#push(entry, step);
      entry.truncated ||= early.truncated;
      summarize(entry);
    }
    this.#events.set(envelope.id, entry);
    while (this.#events.size > this.#capacity) this.#events.delete(this.#events.keys().next().value!);
    return summary;
  }

  /** Adds a report's step to its event's trace; undefined for a repeat or beyond the per-event limit. */
  addStep(eventId: string, step: TraceStep): StepAdded | undefined {
    const entry = this.#events.get(eventId);
    if (entry) {
      if (!this.#push(entry, step)) return undefined;
      summarize(entry);
      return { step, event: entry.summary };
    }
    let early = this.#pending.get(eventId);
    if (!early) {
      early = { list: [], keys: new Set(), truncated: false };
      this.#pending.set(eventId, early);
      while (this.#pending.size > this.#capacity) this.#pending.delete(this.#pending.keys().next().value!);
    }
    return this.#push(early, step) ? { step, event: null } : undefined;
  }

  /** Newest first. */
  recent(filter: RecentFilter = {}): EventSummary[] {
    const type = filter.type ? matcher(filter.type) : undefined;
    const source = filter.source ? matcher(filter.source) : undefined;
    const severities = filter.severities?.length ? new Set(filter.severities) : undefined;
    const limit = filter.limit ?? Infinity;
    const out: EventSummary[] = [];
    const entries = [...this.#events.values()];
    for (let i = entries.length - 1; i >= 0 && out.length < limit; i--) {
      const s = entries[i]!.summary;
      if (type && !type(s.type)) continue;
      if (source && !source(s.source)) continue;
      if (severities && !severities.has(s.severity)) continue;
      out.push(s);
    }
    return out;
  }

  /** The event's path; undefined when neither it nor any report about it is known. */
  trace(eventId: string): Trace | undefined {
    const entry = this.#events.get(eventId);
    const steps = entry ?? this.#pending.get(eventId);
    if (!steps) return undefined;
    return {
      eventId,
      event: entry?.summary ?? null,
      steps: ordered(steps.list),
      truncated: steps.truncated,
      data: entry?.data ?? null,
      dataCut: entry?.dataCut ?? false,
    };
  }

  #push(steps: Steps, step: TraceStep): boolean {
    const key = stepKey(step);
    if (steps.keys.has(key)) return false;
    if (steps.list.length >= this.#maxSteps) {
      steps.truncated = true;
      return false;
    }
    steps.keys.add(key);
    steps.list.push({ step, seq: this.#seq++ });
    return true;
  }
}

/** The pipeline's own steps first, then the reports by the time they happened. */
function ordered(list: Steps['list']): TraceStep[] {
  return [...list]
    .sort((a, b) => {
      const pa = PIPELINE_FIRST[a.step.stage] ?? 2;
      const pb = PIPELINE_FIRST[b.step.stage] ?? 2;
      if (pa !== pb) return pa - pb;
      return Date.parse(a.step.at) - Date.parse(b.step.at) || a.seq - b.seq;
    })
    .map((s) => s.step);
}

/** A QoS 1 redelivery of the same report must not show twice. */
function stepKey(s: TraceStep): string {
  return JSON.stringify([s.stage, s.at, s.deviceId, s.strikes, s.suppressed, s.delivery, s.channel, s.error]);
}

function summarize(entry: Entry): void {
  const rang = new Set<string>();
  const silent = new Set<string>();
  let slack: TraceStep | undefined;
  for (const { step } of entry.list) {
    if (step.stage === 'rang' && step.deviceId !== undefined) {
      if ((step.strikes ?? 0) > 0) rang.add(step.deviceId);
      else silent.add(step.deviceId);
    }
  }
  for (const step of ordered(entry.list)) if (step.stage === 'slack') slack = step;
  for (const id of rang) silent.delete(id);
  const summary = entry.summary;
  summary.rang = [...rang];
  summary.silent = [...silent];
  if (!slack) return;
  // All three from the one latest report, so a channel never sits next to another report's status.
  if (slack.delivery !== undefined) summary.slack = slack.delivery;
  if (slack.channel !== undefined) summary.slackChannel = slack.channel;
  else delete summary.slackChannel;
  if (slack.permalink !== undefined) summary.slackPermalink = slack.permalink;
  else delete summary.slackPermalink;
}

/** The data as people read it (indented JSON), cut to MAX_DATA_CHARS. */
function shownData(data: Envelope['data']): { data: string | null; dataCut: boolean } {
  if (data === undefined) return { data: null, dataCut: false };
  const text = JSON.stringify(data, null, 2);
  if (text.length <= MAX_DATA_CHARS) return { data: text, dataCut: false };
  let cut = text.slice(0, MAX_DATA_CHARS);
  // Half of a surrogate pair would show as a broken character.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return { data: cut, dataCut: true };
}

function matcher(pattern: string): (value: string) => boolean {
  if (!pattern.includes('*')) return (value) => value === pattern;
  const re = globToRegExp(pattern);
  return (value) => re.test(value);
}
