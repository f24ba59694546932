// The few Web API calls the sink makes, behind a small interface so `bellhop start`
// without a token can swap in a dry run. Errors are sorted into three kinds: wait
// and retry (429), retry with back-off (5xx, network, bad token), and give up
// (Slack refused this message for good, e.g. channel_not_found).
import {
  WebClient,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  type KnownBlock,
} from '@slack/web-api';
import type { Logger } from '../../shared/logger.js';
import { slackLogger } from './slack-logger.js';

export interface PostArgs {
  channel: string;
  text: string;
  blocks: KnownBlock[];
  threadTs?: string | undefined;
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
}

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
      unfurl_links: false,
      unfurl_media: false,
    });
    if (!res.channel || !res.ts) throw new WebAPIPlatformError({ ok: false, error: 'no_ts_in_response' });
    return { channel: res.channel, ts: res.ts };
  }

  async update(args: UpdateArgs): Promise<void> {
    await this.#client.chat.update({ channel: args.channel, ts: args.ts, text: args.text, blocks: args.blocks });
  }

  async lookupUserByEmail(email: string): Promise<string> {
    const res = await this.#client.users.lookupByEmail({ email });
    if (!res.user?.id) throw new WebAPIPlatformError({ ok: false, error: 'users_not_found' });
    return res.user.id;
  }
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
  if (err instanceof WebAPIRequestError) return { kind: 'transient', reason: `request failed: ${err.original.message}` };
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    if (AUTH_ERRORS.has(code) || TRANSIENT_ERRORS.has(code)) return { kind: 'transient', reason: code };
    return { kind: 'permanent', reason: code };
  }
  // Anything else is a bug on our side; retrying would only block the channel.
  return { kind: 'permanent', reason: err instanceof Error ? err.message : String(err) };
}

/** One line for logs: the message, with Slack's error code when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const data = (err as { data?: { error?: unknown } }).data;
    return typeof data?.error === 'string' ? `${err.message} (${data.error})` : err.message;
  }
  return String(err);
}
