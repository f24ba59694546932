// The few Web API calls the sink makes, behind a small interface so `bellhop start`
// without a token can swap in a dry run. Errors are sorted into three kinds: wait
// and retry (429), retry with back-off (5xx, network, bad token), and give up
// (Slack refused this message for good, e.g. channel_not_found). Each post carries its
// outbox job's key in Slack's message metadata, so after a crash the sink can look in the
// channel's history for a post Slack took but we never heard back about.
import {
  WebClient,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  type KnownBlock,
} from '@slack/web-api';
import type { Logger } from '../shared/logger.js';
import { CHANNEL_ID, USER_ID } from './ids.js';
import { slackLogger } from './slack-logger.js';

export interface PostArgs {
  channel: string;
  text: string;
  blocks: KnownBlock[];
  threadTs?: string | undefined;
  /** Names the outbox job in the message's metadata (see findPosted). */
  jobKey?: string | undefined;
}

/** The metadata event type of bellhop's posts; the payload is `{ job: <outbox id>:<job seq> }`. */
export const POST_EVENT_TYPE = 'bellhop_post';

export interface FindArgs {
  /** A channel id (conversations.history takes no names). */
  channel: string;
  /** Look among this thread's replies (conversations.replies) instead of the channel's messages. */
  threadTs?: string | undefined;
  jobKey: string;
  /** The time range to search (epoch ms); Slack's ts are its clock's seconds. */
  oldestMs: number;
  latestMs: number;
}

export interface FindResult {
  /** The post carrying jobKey, if it was found. */
  ts?: string;
  /** False when the search stopped at its page limit before covering the whole range. */
  complete: boolean;
}

export interface UpdateArgs {
  channel: string;
  ts: string;
  text: string;
  blocks: KnownBlock[];
}

export interface SlackApi {
  /** Resolves with the channel id and the message ts (needed to update or thread it later). */
  postMessage(args: PostArgs): Promise<{ channel: string; ts: string }>;
  update(args: UpdateArgs): Promise<void>;
  /** The user id for an email (users.lookupByEmail). */
  lookupUserByEmail(email: string): Promise<string>;
  /** Looks for our post of a job (by its metadata) in a channel or thread. */
  findPosted(args: FindArgs): Promise<FindResult>;
  /** Who the bot token belongs to (auth.test): fails with invalid_auth, token_revoked... when Slack refuses it. */
  authTest(): Promise<{ user: string; team: string }>;
  /** The channel id for what we post to: a #name (users.conversations), a user id (conversations.open: the DM), or an id. */
  channelId(postedTo: string): Promise<string>;
}

/** Pages of 200 messages read at most by one lookup. */
const FIND_PAGES = 10;
const FIND_PAGE_SIZE = 200;
/** Pages of channels read at most to find a channel's id by its name. */
const CHANNEL_PAGES = 20;

export interface WebApiOptions {
  token: string;
  apiUrl: string;
  timeoutMs: number;
  logger: Logger;
}

/** A WebClient that leaves retries to the caller: our outbox retries per channel. */
export function createWebClient(opts: WebApiOptions): WebClient {
  return new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl,
    logger: slackLogger(opts.logger),
    // The client's own 429 handling pauses every request of the process; ours pauses one channel.
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: opts.timeoutMs,
  });
}

export class WebSlackApi implements SlackApi {
  #client: WebClient;

  constructor(client: WebClient) {
    this.#client = client;
  }

  async postMessage(args: PostArgs): Promise<{ channel: string; ts: string }> {
    const res = await this.#client.chat.postMessage({
      channel: args.channel,
      text: args.text,
      ...(args.blocks.length > 0 ? { blocks: args.blocks } : {}),
      ...(args.threadTs ? { thread_ts: args.threadTs } : {}),
      ...(args.jobKey ? { metadata: { event_type: POST_EVENT_TYPE, event_payload: { job: args.jobKey } } } : {}),
      unfurl_links: false,
      unfurl_media: false,
    });
    if (!res.channel || !res.ts) throw new WebAPIPlatformError({ ok: false, error: 'no_ts_in_response' });
    return { channel: res.channel, ts: res.ts };
  }

  async update(args: UpdateArgs): Promise<void> {
    await this.#client.chat.update({ channel: args.channel, ts: args.ts, text: args.text, blocks: args.blocks });
  }

  async authTest(): Promise<{ user: string; team: string }> {
    const res = await this.#client.auth.test();
    return { user: res.user ?? '?', team: res.team ?? '?' };
  }

  async lookupUserByEmail(email: string): Promise<string> {
    const res = await this.#client.users.lookupByEmail({ email });
    if (!res.user?.id) throw new WebAPIPlatformError({ ok: false, error: 'users_not_found' });
    return res.user.id;
  }

  async findPosted(args: FindArgs): Promise<FindResult> {
    const range = { oldest: slackTs(args.oldestMs), latest: slackTs(args.latestMs), inclusive: true, include_all_metadata: true, limit: FIND_PAGE_SIZE };
    let cursor: string | undefined;
    for (let page = 0; page < FIND_PAGES; page++) {
      const res = args.threadTs
        ? await this.#client.conversations.replies({ channel: args.channel, ts: args.threadTs, ...range, ...(cursor ? { cursor } : {}) })
        : await this.#client.conversations.history({ channel: args.channel, ...range, ...(cursor ? { cursor } : {}) });
      for (const m of res.messages ?? []) {
        const payload = m.metadata?.event_payload as Record<string, unknown> | undefined;
        if (m.ts && m.metadata?.event_type === POST_EVENT_TYPE && payload?.job === args.jobKey) return { ts: m.ts, complete: true };
      }
      cursor = res.response_metadata?.next_cursor;
      if (!res.has_more || !cursor) return { complete: true };
    }
    return { complete: false };
  }

  async channelId(postedTo: string): Promise<string> {
    if (CHANNEL_ID.test(postedTo)) return postedTo;
    if (USER_ID.test(postedTo)) {
      const res = await this.#client.conversations.open({ users: postedTo });
      if (!res.channel?.id) throw new WebAPIPlatformError({ ok: false, error: 'channel_not_found' });
      return res.channel.id;
    }
    const name = postedTo.replace(/^#/, '');
    let cursor: string | undefined;
    for (let page = 0; page < CHANNEL_PAGES; page++) {
      const res = await this.#client.users.conversations({ types: 'public_channel,private_channel', exclude_archived: true, limit: 999, ...(cursor ? { cursor } : {}) });
      const found = res.channels?.find((c) => c.name === name);
      if (found?.id) return found.id;
      cursor = res.response_metadata?.next_cursor;
      if (!cursor) break;
    }
    throw new WebAPIPlatformError({ ok: false, error: 'channel_not_found' });
  }
}

/** Epoch ms as a Slack timestamp ("seconds.micros"). */
function slackTs(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(6);
}

export type Failure =
  | { kind: 'rate-limited'; retryAfterMs: number; reason: string }
  | { kind: 'transient'; reason: string }
  | { kind: 'permanent'; reason: string };

// Nothing can be posted with these until someone fixes the token, so keep the
// messages and retry slowly rather than throw them all away.
const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive', 'no_permission', 'team_access_not_granted']);
const TRANSIENT_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);

export function classify(err: unknown): Failure {
  if (err instanceof WebAPIRateLimitedError) return { kind: 'rate-limited', retryAfterMs: err.retryAfter * 1000, reason: 'rate limited (429)' };
  if (err instanceof WebAPIHTTPError) return { kind: 'transient', reason: `HTTP ${err.statusCode}` };
  if (err instanceof WebAPIRequestError) return { kind: 'transient', reason: `request failed: ${networkReason(err.original)}` };
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    if (AUTH_ERRORS.has(code) || TRANSIENT_ERRORS.has(code)) return { kind: 'transient', reason: code };
    return { kind: 'permanent', reason: code };
  }
  // Anything else is a bug on our side; retrying would only block the channel.
  return { kind: 'permanent', reason: err instanceof Error ? err.message : String(err) };
}

/** True when Slack refused the token itself: every call with it fails the same way. */
export function isAuthError(err: unknown): boolean {
  return err instanceof WebAPIPlatformError && AUTH_ERRORS.has(err.data.error);
}

/** No answer at all (DNS, refused connection, TLS, timeout): Slack may be fine, the way there is not. */
export function isNetworkError(err: unknown): boolean {
  return err instanceof WebAPIRequestError;
}

/** "fetch failed" says nothing; the cause's code (ECONNREFUSED, ENOTFOUND, a TLS error) does. */
function networkReason(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  const code = (err as { code?: unknown }).code ?? (cause as { code?: unknown } | undefined)?.code;
  const detail = cause instanceof Error && cause.message !== err.message ? `: ${cause.message}` : '';
  return typeof code === 'string' && !err.message.includes(code) ? `${err.message} (${code})${detail}` : `${err.message}${detail}`;
}

/**
 * After this failure, did Slack perhaps post the message anyway? A timeout, a dropped
 * connection or a 5xx says nothing about it; a 429 or an error answer means it did not.
 */
export function outcomeUnknown(err: unknown): boolean {
  if (err instanceof WebAPIRateLimitedError) return false;
  if (err instanceof WebAPIRequestError) return true;
  if (err instanceof WebAPIHTTPError) return err.statusCode >= 500;
  if (err instanceof WebAPIPlatformError) return SLACK_SIDE_ERRORS.has(err.data.error);
  return false;
}

const SLACK_SIDE_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** One line for logs: the message, with Slack's error code when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const data = (err as { data?: { error?: unknown } }).data;
    return typeof data?.error === 'string' ? `${err.message} (${data.error})` : err.message;
  }
  return String(err);
}
