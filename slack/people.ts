// Where a target's messages go: a channel as named, a person by user id, or by email
// through users.lookupByEmail, cached (an hour when found, five minutes when not, so an
// unknown address does not cost a lookup per event).
import { WebAPIPlatformError } from '@slack/web-api';
import type { Clock } from '../shared/clock.js';
import { classify, type SlackApi } from './api.js';
import { USER_ID } from './ids.js';
import type { Target } from './router.js';

const FOUND_MS = 3600_000;
const NOT_FOUND_MS = 300_000;
const CACHE_SIZE = 1000;

interface Entry {
  id?: string;
  error?: string;
  at: number;
}

export class People {
  #api: SlackApi;
  #clock: Clock;
  #cache = new Map<string, Entry>();

  constructor(api: SlackApi, clock: Clock) {
    this.#api = api;
    this.#clock = clock;
  }

  /** The channel (or user id, for a DM) to post to; throws Slack's error for an unknown email. */
  async channelFor(target: Target): Promise<string> {
    if (target.kind === 'channel') return target.channel;
    if (USER_ID.test(target.user)) return target.user;
    const now = this.#clock.now();
    const cached = this.#cache.get(target.user);
    if (cached && now - cached.at < (cached.id ? FOUND_MS : NOT_FOUND_MS)) {
      if (cached.id) return cached.id;
      throw new WebAPIPlatformError({ ok: false, error: cached.error ?? 'users_not_found' });
    }
    try {
      const id = await this.#api.lookupUserByEmail(target.user);
      this.#remember(target.user, { id, at: now });
      return id;
    } catch (err) {
      const failure = classify(err);
      if (failure.kind === 'permanent') this.#remember(target.user, { error: failure.reason, at: now });
      throw err;
    }
  }

  #remember(email: string, entry: Entry): void {
    this.#cache.delete(email);
    this.#cache.set(email, entry);
    if (this.#cache.size > CACHE_SIZE) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }
}
