// A fake Slack for the tests: the Web API methods bellhop calls and the Socket Mode
// WebSocket (hello, envelopes, acks, refresh disconnects), on 127.0.0.1 port 0.
// The real @slack/web-api and @slack/socket-mode clients talk to it through
// slackApiUrl. It can answer 429 with Retry-After, fail with 500, drop
// connections, refuse channels, and rate-limit posts per channel like Slack does.
// Messages keep their metadata, and can be read back like Slack serves them
// (conversations.history and conversations.replies: ranges, pages, cursors, metadata
// only on request), with missing_scope for a token without the scope and not_in_channel
// for a channel the bot has left (see leave()). fill() adds other people's messages in bulk.
// Hooks around chat.postMessage let a test act at the instant Slack stores a message (kill
// the sink).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';

import { FakeSocketMode } from './socket-mode.js';
import { describeFault, isObject, page, parseArgs, readBody, tsCompare } from './wire.js';
import { ALL_SCOPES, APP_TOKEN, BOT_TOKEN, type AfterPost, type ApiCall, type BeforePost, type FakeMessage, type FakeSlackOptions, type Fault } from './types.js';

export { ALL_SCOPES, APP_TOKEN, BOT_TOKEN } from './types.js';
export type { AfterPost, ApiCall, BeforePost, FakeMessage, FakeSlackOptions, Fault, SlashCommand } from './types.js';

export class FakeSlack extends FakeSocketMode {
  readonly calls: ApiCall[] = [];
  readonly messages: FakeMessage[] = [];
  beforePost: BeforePost | undefined;
  afterPost: AfterPost | undefined;
  #opts: FakeSlackOptions;
  #server: Server | undefined;
  #faults: Array<{ method: string; fault: Fault; left: number; channel?: string | undefined }> = [];
  #outage: Fault | undefined;
  #channels = new Map<string, string>();
  /** Ids of the channels the bot is not a member of (it is in every other one). */
  #left = new Set<string>();
  #recent = new Map<string, number[]>();
  #lastTs = 0n;

  constructor(opts: FakeSlackOptions = {}) {
    super();
    this.#opts = opts;
  }

  override get url(): string {
    const addr = this.#server?.address();
    if (!addr || typeof addr !== 'object') throw new Error('fake Slack is not running');
    return `http://127.0.0.1:${addr.port}/`;
  }

  /** What bellhop gets as slack.apiUrl. */
  get apiUrl(): string {
    return `${this.url}api/`;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#onRequest(req, res));
    this.acceptSockets(this.#server);
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  async stop(): Promise<void> {
    this.closeSockets();
    if (this.#server) {
      const closed = new Promise<void>((resolve) => this.#server!.close(() => resolve()));
      this.#server.closeAllConnections();
      await closed;
    }
  }

  // ---- fault injection ----

  /** The next `times` calls of `method` ('*' = any), to `channel` if given, fail with `fault`. */
  failNext(method: string, fault: Fault, times = 1, channel?: string): void {
    this.#faults.push({ method, fault, left: times, channel });
  }

  /** Every API call fails with `fault` until outage(undefined). */
  outage(fault: Fault | undefined): void {
    this.#outage = fault;
  }

  setRateLimit(limit: FakeSlackOptions['rateLimit']): void {
    this.#opts.rateLimit = limit;
  }

  /**
   * The bot is no longer a member of `channel` (#name or id): its history and threads answer
   * not_in_channel, users.conversations leaves it out, and chat.postMessage works there only
   * with the chat:write.public scope (as for a public channel the bot was never invited to).
   */
  leave(channel: string): void {
    this.#left.add(this.#channelId(channel));
  }

  /** The bot is a member of `channel` again (it was invited back). */
  join(channel: string): void {
    this.#left.delete(this.#channelId(channel));
  }

  /** Adds `n` messages from a person to `channel` (#name or id), newer than everything before; no API calls. */
  fill(channel: string, n: number, user = 'U0CHATTY'): FakeMessage[] {
    const id = this.#channelId(channel);
    const added: FakeMessage[] = [];
    for (let i = 0; i < n; i++) added.push({ channel: id, postedTo: channel, ts: this.#nextTs(), text: `chatter ${i}`, blocks: [], updates: [], user });
    this.messages.push(...added);
    return added;
  }

  // ---- what happened ----

  /** Top-level messages (not thread replies), optionally in one channel (by the name or id posted to). */
  posts(channel?: string): FakeMessage[] {
    return this.messages.filter((m) => !m.threadTs && (channel === undefined || m.postedTo === channel || m.channel === channel));
  }

  replies(parent: FakeMessage): FakeMessage[] {
    return this.messages.filter((m) => m.threadTs === parent.ts && m.channel === parent.channel);
  }

  callsTo(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  // ---- the Web API ----

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const body = await readBody(req);
    const path = req.url ?? '/';
    if (path.startsWith('/commands/respond/')) {
      const id = path.slice('/commands/respond/'.length);
      const parsed = JSON.parse(body || '{}') as Record<string, unknown>;
      this.answer(id, parsed);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!path.startsWith('/api/')) return void res.writeHead(404).end();
    const method = path.slice('/api/'.length).split('?')[0]!;
    const args = parseArgs(req.headers['content-type'] ?? '', body);
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '') || String(args.token ?? '');

    const fault = this.#takeFault(method, String(args.channel ?? '')) ?? (method === 'chat.postMessage' ? await this.beforePost?.(args) : undefined);
    if (fault) {
      this.calls.push({ method, args, outcome: describeFault(fault), at });
      return this.#fail(res, fault);
    }
    const result = this.#call(method, args, token);
    if (method === 'chat.postMessage' && result.ok && this.afterPost) {
      const stored = this.messages.find((m) => m.ts === result.ts && m.channel === result.channel)!;
      const after = await this.afterPost(stored);
      if (after) {
        this.calls.push({ method, args, outcome: `stored, then ${describeFault(after)}`, at });
        return this.#fail(res, after);
      }
    }
    this.calls.push({ method, args, outcome: result.ok ? 'ok' : String(result.error ?? result.status), at });
    if ('status' in result && result.status === 429) {
      res.writeHead(429, { 'retry-after': String(result.retryAfter), 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
    }
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (method === 'auth.test' && result.ok) headers['x-oauth-scopes'] = (this.#opts.scopes ?? ALL_SCOPES).join(',');
    res.writeHead(200, headers).end(JSON.stringify(result));
  }

  #takeFault(method: string, channel: string): Fault | undefined {
    if (this.#outage) return this.#outage;
    const i = this.#faults.findIndex((f) => (f.method === method || f.method === '*') && (f.channel === undefined || f.channel === channel));
    if (i < 0) return undefined;
    const entry = this.#faults[i]!;
    entry.left -= 1;
    if (entry.left <= 0) this.#faults.splice(i, 1);
    return entry.fault;
  }

  #fail(res: ServerResponse, fault: Fault): void {
    if ('drop' in fault) return void res.socket?.destroy();
    if ('error' in fault) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: fault.error }));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (fault.status === 429) headers['retry-after'] = String(fault.retryAfter);
    if (res.destroyed) return;
    res.writeHead(fault.status, headers).end(JSON.stringify({ ok: false, error: fault.status === 429 ? 'ratelimited' : 'fatal_error' }));
  }

  #call(method: string, args: Record<string, unknown>, token: string): Record<string, unknown> & { ok: boolean } {
    if (method === 'apps.connections.open') {
      if (token !== APP_TOKEN) return { ok: false, error: token.startsWith('xapp-') ? 'invalid_auth' : 'not_allowed_token_type' };
      const u = new URL(this.url);
      return { ok: true, url: `ws://${u.host}/link/?ticket=${Date.now()}&app_id=A0FAKE` };
    }
    if (token !== BOT_TOKEN) return { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.com/', team: 'Fake Team', user: 'bellhop', team_id: 'T0FAKE', user_id: 'U0BOT', bot_id: 'B0BOT' };
      case 'chat.postMessage':
        return this.#post(args);
      case 'chat.update':
        return this.#update(args);
      case 'chat.postEphemeral': {
        this.answer(`ephemeral:${String(args.channel)}:${String(args.user)}`, args);
        return { ok: true, message_ts: this.#nextTs() };
      }
      case 'conversations.history':
        return this.#history(args);
      case 'conversations.replies':
        return this.#replies(args);
      case 'conversations.open':
        return this.#open(args);
      case 'users.conversations':
        return this.#memberships(args);
      case 'users.lookupByEmail': {
        const id = this.#opts.users?.[String(args.email ?? '').toLowerCase()];
        return id ? { ok: true, user: { id, name: String(args.email).split('@')[0] } } : { ok: false, error: 'users_not_found' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  #post(args: Record<string, unknown>): Record<string, unknown> & { ok: boolean } {
    const postedTo = String(args.channel ?? '');
    if (!postedTo) return { ok: false, error: 'channel_not_found' };
    if (this.#opts.missingChannels?.includes(postedTo)) return { ok: false, error: 'channel_not_found' };
    if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
    const channel = this.#channelId(postedTo);
    if (this.#left.has(channel) && !(this.#opts.scopes ?? ALL_SCOPES).includes('chat:write.public')) return { ok: false, error: 'not_in_channel' };
    const limit = this.#opts.rateLimit;
    if (limit) {
      const now = Date.now();
      const recent = (this.#recent.get(channel) ?? []).filter((t) => now - t < limit.windowMs);
      if (recent.length >= limit.max) {
        this.#recent.set(channel, recent);
        return { ok: false, status: 429, retryAfter: limit.retryAfter, error: 'ratelimited' };
      }
      recent.push(now);
      this.#recent.set(channel, recent);
    }
    const threadTs = args.thread_ts ? String(args.thread_ts) : undefined;
    if (threadTs && !this.messages.some((m) => m.channel === channel && m.ts === threadTs)) return { ok: false, error: 'thread_not_found' };
    const message: FakeMessage = {
      channel,
      postedTo,
      ts: this.#nextTs(),
      text: String(args.text ?? ''),
      blocks: Array.isArray(args.blocks) ? args.blocks : [],
      updates: [],
      ...(threadTs ? { threadTs } : {}),
      ...(isObject(args.metadata) ? { metadata: args.metadata } : {}),
    };
    this.messages.push(message);
    return { ok: true, channel, ts: message.ts, message: { text: message.text, blocks: message.blocks } };
  }

  #update(args: Record<string, unknown>): Record<string, unknown> & { ok: boolean } {
    const message = this.messages.find((m) => m.channel === args.channel && m.ts === args.ts);
    if (!message) return { ok: false, error: 'message_not_found' };
    message.text = String(args.text ?? '');
    message.blocks = Array.isArray(args.blocks) ? args.blocks : [];
    message.updates.push({ text: message.text, blocks: message.blocks });
    return { ok: true, channel: message.channel, ts: message.ts };
  }

  /** A channel's messages, newest first; thread replies are not in it (as in Slack). */
  #history(args: Record<string, unknown>): Record<string, unknown> & { ok: boolean } {
    const channel = String(args.channel ?? '');
    const refused = this.#readable(channel);
    if (refused) return refused;
    const top = this.messages.filter((m) => m.channel === channel && !m.threadTs).sort((a, b) => tsCompare(b.ts, a.ts));
    return page(this.messages, top, args, 'newest-first', { byDefault: 100, max: 999 });
  }

  /** A thread: its first message, then the replies, oldest first. */
  #replies(args: Record<string, unknown>): Record<string, unknown> & { ok: boolean } {
    const channel = String(args.channel ?? '');
    const refused = this.#readable(channel);
    if (refused) return refused;
    const named = this.messages.find((m) => m.channel === channel && m.ts === String(args.ts ?? ''));
    if (!named) return { ok: false, error: 'thread_not_found' };
    const rootTs = named.threadTs ?? named.ts;
    const thread = this.messages.filter((m) => m.channel === channel && (m.ts === rootTs || m.threadTs === rootTs)).sort((a, b) => tsCompare(a.ts, b.ts));
    return page(this.messages, thread, args, 'oldest-first', { byDefault: 1000, max: 1000 });
  }

  /** channel_not_found, missing_scope or not_in_channel for a channel the bot may not read; undefined when it may. */
  #readable(channel: string): (Record<string, unknown> & { ok: boolean }) | undefined {
    // conversations.* take ids only, never #names.
    if (!/^[CGD][A-Z0-9]+$/.test(channel)) return { ok: false, error: 'channel_not_found' };
    const refused = this.#needs(channel.startsWith('D') ? 'im:history' : channel.startsWith('G') ? 'groups:history' : 'channels:history');
    if (refused) return refused;
    return this.#left.has(channel) ? { ok: false, error: 'not_in_channel' } : undefined;
  }

  #needs(scope: string): (Record<string, unknown> & { ok: boolean }) | undefined {
    const granted = this.#opts.scopes ?? ALL_SCOPES;
    if (granted.includes(scope)) return undefined;
    return { ok: false, error: 'missing_scope', needed: scope, provided: granted.join(',') };
  }

  /** One page of `list` (already in reading order) within oldest/latest, from the cursor on. */
  /** The DM with one person (conversations.open with users=...). */
  #open(args: Record<string, unknown>): Record<string, unknown> & { ok: boolean } {
    const refused = this.#needs('im:write');
    if (refused) return refused;
    const users = String(args.users ?? '').split(',').filter(Boolean);
    if (users.length !== 1 || !/^[UW][A-Z0-9]+$/.test(users[0]!)) return { ok: false, error: users.length === 0 ? 'users_list_not_supplied' : 'user_not_found' };
    return { ok: true, channel: { id: this.#channelId(users[0]!) } };
  }

  /** The channels the bot is in: here, every channel it has posted to and not left. */
  #memberships(args: Record<string, unknown>): Record<string, unknown> & { ok: boolean } {
    const types = String(args.types ?? 'public_channel').split(',');
    for (const [type, scope] of [['public_channel', 'channels:read'], ['private_channel', 'groups:read']] as const) {
      const refused = types.includes(type) ? this.#needs(scope) : undefined;
      if (refused) return refused;
    }
    const all = types.includes('public_channel')
      ? [...this.#channels].filter(([, id]) => !this.#left.has(id)).map(([name, id]) => ({ id, name, is_channel: true, is_private: false, is_archived: false }))
      : [];
    const offset = args.cursor ? Number(Buffer.from(String(args.cursor), 'base64').toString('utf8').replace(/^offset:/, '')) : 0;
    const limit = Math.min(1000, Math.max(1, Number(args.limit ?? 100)));
    const page = all.slice(offset, offset + limit);
    const more = offset + limit < all.length;
    return { ok: true, channels: page, response_metadata: { next_cursor: more ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' } };
  }


  /** #name -> a stable C... id; ids and user ids (a DM) map to themselves / a D... id. */
  #channelId(postedTo: string): string {
    if (/^[UW][A-Z0-9]+$/.test(postedTo)) return `D${postedTo.slice(1)}`;
    if (/^[CDG][A-Z0-9]+$/.test(postedTo)) return postedTo;
    const name = postedTo.replace(/^#/, '');
    let id = this.#channels.get(name);
    if (!id) {
      id = `C${String(this.#channels.size + 1).padStart(8, '0')}`;
      this.#channels.set(name, id);
    }
    return id;
  }

  /** Slack-like ts: the time in seconds with six decimals, unique and increasing. */
  #nextTs(): string {
    const now = BigInt(Date.now()) * 1000n;
    this.#lastTs = now > this.#lastTs ? now : this.#lastTs + 1n;
    const micros = String(this.#lastTs).padStart(7, '0');
    return `${micros.slice(0, -6)}.${micros.slice(-6)}`;
  }
}
