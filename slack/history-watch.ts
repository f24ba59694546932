// Exactly once rests on reading history: a post that may already be in Slack (attempted
// before a kill, or its answer lost) is looked for in its channel before it is sent again.
// Where Slack will not let the sink read (a missing *:history scope, the bot not in the
// channel) that lookup cannot be made and the post is sent again, so it may show twice. This
// keeps, per channel, what the last read there came to, for the sink's health. Waiting for a
// crash to find out would say so only after the duplicate, so each channel is also read once
// after this run's first post there: a lookup of that post.
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { SlackHealth } from '../shared/messages.js';
import { classify, describeError, type SlackApi } from './api.js';
import { WebAPIPlatformError } from '@slack/web-api';

export type ExactlyOnceHealth = Pick<SlackHealth, 'exactlyOnce' | 'degradedReason' | 'degradedFix'>;

export interface HistoryWatchOptions {
  api: SlackApi;
  clock: Clock;
  logger: Logger;
  /** Each time the state changes (the sink publishes it with its health). */
  onChange: (health: ExactlyOnceHealth) => void;
}

export interface ReadCheck {
  /** The channel id Slack answered with. */
  channel: string;
  /** What was posted to (#name, user id): named in the reason, which people read. */
  postedTo: string;
  threadTs?: string | undefined;
  jobKey: string;
  /** The post's ts, as Slack gave it. */
  ts: string;
}

interface Refusal {
  reason: string;
  fix: string | undefined;
  at: number;
}

/** conversations.history is Tier 3 (about 50 a minute): the checks leave most of that to real lookups. */
const CHECK_GAP_MS = 1200;
/** A refused channel is read again after this long (on a post there), so a granted scope shows without a restart. */
const RECHECK_REFUSED_MS = 10 * 60_000;
/** The check reads only the post's own second or so, never pages. */
const CHECK_RANGE_MS = 1000;
const MAX_REASONS = 3;

export class HistoryWatch {
  #opts: HistoryWatchOptions;
  #channels = new Map<string, Refusal | 'readable'>();
  #checking = new Set<string>();
  #lastCheckAt = Number.NEGATIVE_INFINITY;
  #health: ExactlyOnceHealth = {};
  #stopped = false;

  constructor(opts: HistoryWatchOptions) {
    this.#opts = opts;
  }

  get health(): ExactlyOnceHealth {
    return this.#health;
  }

  /** A read of `channel` worked (whether or not it found what it looked for). */
  readable(channel: string): void {
    if (this.#channels.get(channel) === 'readable') return;
    this.#channels.set(channel, 'readable');
    this.#update();
  }

  /** Slack refused to let the sink read `channel` (or find its id, when `channel` is what was posted to). */
  refused(channel: string, postedTo: string, error: string, needed: string | undefined): void {
    const reason = `${error}: ${needed ?? postedTo}`;
    this.#channels.set(channel, { reason, fix: lookupFix(error, needed, postedTo), at: this.#opts.clock.now() });
    this.#update();
  }

  /** After a post this run: reads the channel once by looking that post up, unless it was read lately. */
  check(post: ReadCheck): void {
    const { clock, api } = this.#opts;
    // A channel id that could not be found by name is known now (lookups there need no search).
    if (post.postedTo !== post.channel && this.#channels.delete(post.postedTo)) this.#update();
    const now = clock.now();
    const known = this.#channels.get(post.channel);
    if (this.#stopped || known === 'readable' || this.#checking.has(post.channel)) return;
    if (known && now - known.at < RECHECK_REFUSED_MS) return;
    // Skipped checks are made at a later post in that channel.
    if (now - this.#lastCheckAt < CHECK_GAP_MS) return;
    this.#lastCheckAt = now;
    this.#checking.add(post.channel);
    const at = Number(post.ts) * 1000;
    void api
      .findPosted({ channel: post.channel, threadTs: post.threadTs, jobKey: post.jobKey, oldestMs: at - CHECK_RANGE_MS, latestMs: at + CHECK_RANGE_MS })
      .then(
        () => {
          if (!this.#stopped) this.readable(post.channel);
        },
        (err: unknown) => {
          // A 429, a 5xx or the network says nothing about the scopes: the next post tries again.
          if (this.#stopped || classify(err).kind !== 'permanent') return;
          const data = err instanceof WebAPIPlatformError ? (err.data as { error: string; needed?: string }) : undefined;
          this.refused(post.channel, post.postedTo, data?.error ?? describeError(err), data?.needed);
        },
      )
      .finally(() => this.#checking.delete(post.channel));
  }

  /** Checks still out are let go: their answers no longer change anything. */
  stop(): void {
    this.#stopped = true;
  }

  #update(): void {
    const refusals = [...this.#channels.values()].filter((c): c is Refusal => c !== 'readable');
    const reasons = distinct(refusals.map((r) => r.reason));
    const fixes = distinct(refusals.flatMap((r) => (r.fix ? [r.fix] : [])));
    const next: ExactlyOnceHealth =
      refusals.length > 0
        ? { exactlyOnce: 'degraded', degradedReason: listed(reasons), ...(fixes.length > 0 ? { degradedFix: listed(fixes) } : {}) }
        : this.#channels.size > 0
          ? { exactlyOnce: 'ok' }
          : {};
    const before = this.#health;
    if (before.exactlyOnce === next.exactlyOnce && before.degradedReason === next.degradedReason && before.degradedFix === next.degradedFix) return;
    this.#health = next;
    const log = this.#opts.logger;
    if (next.exactlyOnce === 'degraded') {
      log.warn(
        { degradedReason: next.degradedReason, fix: next.degradedFix },
        `exactly-once is degraded: Slack does not let the sink read history (${next.degradedReason ?? ''}), so a post it took just before a crash is posted again after the restart`,
      );
    } else if (before.exactlyOnce === 'degraded') {
      log.info('exactly-once is whole again: the sink can read history in every channel it posts to');
    }
    this.#opts.onChange(next);
  }
}

/** What to do about a read Slack refused; `where` (what was posted to) names the channel to invite the bot to. */
export function lookupFix(error: string, needed: string | undefined, where?: string): string | undefined {
  if (needed) return `add the scope ${needed} under OAuth & Permissions > Bot Token Scopes and reinstall the app`;
  if (error === 'not_in_channel') return `invite the bot to ${where ?? 'the channel'}`;
  if (error === 'missing_scope') return 'add channels:history, groups:history and im:history under OAuth & Permissions > Bot Token Scopes and reinstall the app';
  return undefined;
}

function distinct(items: string[]): string[] {
  return [...new Set(items)];
}

function listed(items: string[]): string {
  const shown = items.slice(0, MAX_REASONS).join('; ');
  return items.length > MAX_REASONS ? `${shown}; and ${items.length - MAX_REASONS} more` : shown;
}
