// Does Slack take the bot token? Asked once at start (auth.test) and learnt again from
// every delivery. While Slack refuses the token nothing is attempted: each message would
// fail the same way, so the outbox keeps every event, the fix is said once (not once per
// message), and auth.test is asked again with back-off until the token works (a reinstalled
// app, a reactivated workspace) or someone sets a new one and restarts.
import type { Clock } from '../shared/clock.js';
import { backoffDelay } from '../shared/backoff.js';
import type { Logger } from '../shared/logger.js';
import type { SlackHealth } from '../shared/messages.js';
import { classify, isAuthError, isNetworkError, type SlackApi } from './api.js';
import type { ExactlyOnceHealth } from './history-watch.js';

export type HealthState = Omit<SlackHealth, 'at' | 'pending'>;

export interface TokenCheckOptions {
  api: SlackApi;
  clock: Clock;
  logger: Logger;
  /** Named in the "cannot reach Slack" message (a proxy or a test's fake Slack). */
  apiUrl: string;
  /** No bot token at all: nothing to check, the state is `dry_run`. */
  dryRun: boolean;
  /** Each time the state changes (the sink publishes it, retained). */
  onChange: (health: HealthState) => void;
  /** Back-off between auth.test calls while the token is refused or Slack is away. */
  recheck?: { baseMs: number; maxMs: number };
}

const RECHECK = { baseMs: 30_000, maxMs: 10 * 60_000 };

export const TOKEN_FIX =
  'set a working bot token (SLACK_BOT_TOKEN or slack.botToken; a new one is under OAuth & Permissions of your Slack app, reinstall the app if it was removed) and restart; events wait in the outbox until then';

export class TokenCheck {
  #opts: TokenCheckOptions;
  #health: HealthState;
  #exactlyOnce: ExactlyOnceHealth = {};
  #checking = false;
  #attempts = 0;
  #timer: ReturnType<Clock['setTimeout']> | undefined;
  #stopped = false;
  #restored: Array<() => void> = [];

  constructor(opts: TokenCheckOptions) {
    this.#opts = opts;
    this.#health = { state: opts.dryRun ? 'dry_run' : 'checking' };
  }

  /** The token's state, with what reading history says about exactly-once (see HistoryWatch). */
  get health(): HealthState {
    return { ...this.#health, ...this.#exactlyOnce };
  }

  /** Whether lookups can be made, told by the HistoryWatch; published with the token's state. */
  exactlyOnce(health: ExactlyOnceHealth): void {
    this.#exactlyOnce = health;
    this.#opts.onChange(this.health);
  }

  /** True while no delivery should be tried: the first check is out, or Slack refused the token. */
  get holding(): boolean {
    return this.#checking || this.#health.state === 'token_refused';
  }

  /** Called when deliveries may go on again after a hold. */
  onRestored(listener: () => void): void {
    this.#restored.push(listener);
  }

  /** The first auth.test; resolves when it has answered (never throws). */
  async start(): Promise<void> {
    this.#stopped = false;
    if (this.#opts.dryRun) return this.#opts.onChange(this.health);
    await this.#check();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#release();
  }

  /** What a delivery's failure says about the token or the link (see Dispatcher). */
  failed(err: unknown): void {
    if (this.#opts.dryRun) return;
    if (isAuthError(err)) this.#set(this.#refused(classify(err).reason));
    else if (isNetworkError(err) && this.#health.state === 'ok') this.#set(this.#unreachable(classify(err).reason));
  }

  /** A delivery went through: the token works and Slack is reachable. */
  worked(): void {
    if (this.#health.state !== 'ok' && this.#health.state !== 'dry_run') this.#set({ state: 'ok' });
  }

  async #check(): Promise<void> {
    this.#checking = true;
    try {
      const who = await this.#opts.api.authTest();
      this.#attempts = 0;
      const again = this.#health.state === 'token_refused';
      this.#opts.logger.info({ bot: who.user, team: who.team }, again ? 'Slack takes the bot token again; delivering what the outbox kept' : 'Slack bot token checked');
      this.#set({ state: 'ok' }, true);
    } catch (err) {
      const failure = classify(err);
      // Only a refused token or an unreachable Slack says something about every message;
      // anything else (a missing scope for auth.test, a 429) is left to the deliveries.
      if (isAuthError(err)) this.#set(this.#refused(failure.reason), true);
      else if (isNetworkError(err)) this.#set(this.#unreachable(failure.reason), true);
      else if (this.#health.state === 'checking') this.#set({ state: 'ok' }, true);
      if (this.#health.state === 'token_refused' || this.#health.state === 'unreachable') this.#schedule();
    } finally {
      this.#checking = false;
      if (!this.holding) this.#release();
    }
  }

  #schedule(): void {
    if (this.#stopped || this.#timer) return;
    this.#attempts += 1;
    const delay = backoffDelay(this.#attempts, this.#opts.recheck ?? RECHECK);
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#timer = undefined;
      if (!this.#stopped) void this.#check();
    }, delay);
  }

  #refused(reason: string): HealthState {
    return { state: 'token_refused', reason, fix: TOKEN_FIX };
  }

  #unreachable(reason: string): HealthState {
    return { state: 'unreachable', reason, fix: `check this machine's network and proxy, and slack.apiUrl (${this.#opts.apiUrl}); events wait in the outbox and are retried` };
  }

  #set(next: HealthState, fromCheck = false): void {
    const before = this.#health;
    if (before.state === next.state && before.reason === next.reason) return;
    this.#health = next;
    const log = this.#opts.logger;
    if (next.state === 'token_refused') log.error({ reason: next.reason }, `Slack refused the bot token (${next.reason}): ${next.fix}`);
    if (next.state === 'unreachable') log.warn({ reason: next.reason }, `cannot reach Slack (${next.reason}): ${next.fix}`);
    if (next.state === 'ok' && before.state === 'unreachable') log.info('Slack is reachable again');
    this.#opts.onChange(this.health);
    // A refusal learnt from a delivery starts the rechecks; one from a check has scheduled its own.
    if (next.state === 'token_refused' && !fromCheck) this.#schedule();
  }

  #release(): void {
    for (const listener of this.#restored) listener();
  }
}
