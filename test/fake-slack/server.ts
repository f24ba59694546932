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
import { WebSocketServer, type WebSocket } from 'ws';

export const BOT_TOKEN = 'xoxb-fake-bot-token';
export const APP_TOKEN = 'xapp-fake-app-token';
export const ALL_SCOPES = ['chat:write', 'users:read', 'users:read.email', 'commands', 'channels:history', 'groups:history', 'im:history', 'channels:read', 'groups:read', 'im:write'];

export type Fault = { status: 429; retryAfter: number } | { status: 500 | 502 | 503 } | { drop: true } | { error: string };

export interface FakeMessage {
  channel: string;
  /** The name it was posted to (#name), or the id. */
  postedTo: string;
  ts: string;
  text: string;
  blocks: unknown[];
  threadTs?: string;
  /** Who wrote it, when not the bot (messages added by fill()). */
  user?: string;
  /** Message metadata as posted ({event_type, event_payload}). */
  metadata?: Record<string, unknown>;
  updates: Array<{ text: string; blocks: unknown[] }>;
}

/** Runs when a chat.postMessage arrives, before it is stored; a Fault returned fails it and nothing is stored. */
export type BeforePost = (args: Record<string, unknown>) => Fault | void | Promise<Fault | void>;
/** Runs once a chat.postMessage is stored, before the answer is sent; a Fault returned replaces the answer (the message stays). */
export type AfterPost = (message: FakeMessage) => Fault | void | Promise<Fault | void>;

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  /** What the fake did: ok, an error code, or the fault it injected. */
  outcome: string;
}

export interface FakeSlackOptions {
  scopes?: string[];
  /** email -> user id, for users.lookupByEmail. */
  users?: Record<string, string>;
  /** Channel names (with #) that do not exist: channel_not_found. */
  missingChannels?: string[];
  /** Slack-like per-channel limit on chat.postMessage: at most `max` per `windowMs`, else 429. */
  rateLimit?: { max: number; windowMs: number; retryAfter: number };
}

interface Pending {
  resolve: (payload: Record<string, unknown>) => void;
}

export interface SlashCommand {
  envelopeId: string;
  /** The payload of the ack (what Slack shows at once), {} for a bare ack. */
  ack: Record<string, unknown>;
}

export class FakeSlack {
  readonly calls: ApiCall[] = [];
  readonly messages: FakeMessage[] = [];
  /** Ack and answer order of slash commands: 'ack:<id>', 'answer:<id>'. */
  readonly timeline: string[] = [];
  readonly answers = new Map<string, Array<Record<string, unknown>>>();
  /** Socket Mode connections that got a hello, ever. */
  helloCount = 0;
  disconnectsSent = 0;
  /** False: new Socket Mode connections get no hello (a stuck Slack edge). */
  sendHello = true;
  /** Socket Mode connections opened, with or without a hello. */
  socketsOpened = 0;
  beforePost: BeforePost | undefined;
  afterPost: AfterPost | undefined;
  #opts: FakeSlackOptions;
  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  #sockets = new Set<WebSocket>();
  #faults: Array<{ method: string; fault: Fault; left: number; channel?: string | undefined }> = [];
  #outage: Fault | undefined;
  #channels = new Map<string, string>();
  /** Ids of the channels the bot is not a member of (it is in every other one). */
  #left = new Set<string>();
  #recent = new Map<string, number[]>();
  #pending = new Map<string, Pending>();
  #lastTs = 0n;
  #envelopes = 0;
  #socketWaiters = new Set<() => void>();

  constructor(opts: FakeSlackOptions = {}) {
    this.#opts = opts;
  }

  get url(): string {
    const addr = this.#server?.address();
    if (!addr || typeof addr !== 'object') throw new Error('fake Slack is not running');
    return `http://127.0.0.1:${addr.port}/`;
  }

  /** What bellhop gets as slack.apiUrl. */
  get apiUrl(): string {
    return `${this.url}api/`;
  }

  /** Open Socket Mode connections that got their hello. */
  get openSockets(): number {
    return [...this.#sockets].filter((s) => s.readyState === s.OPEN).length;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#onRequest(req, res));
    this.#wss = new WebSocketServer({ noServer: true });
    this.#server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/link')) return void socket.destroy();
      this.#wss!.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws));
    });
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  async stop(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    this.#wss?.close();
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

  // ---- Socket Mode ----

  /** Sends a slash command over Socket Mode (waiting for a connection, as Slack queues it) and resolves on the ack. */
  async slashCommand(
    fields: { text?: string; command?: string; user_id?: string; user_name?: string; channel_id?: string; response_url?: string },
    { timeoutMs = 5000 } = {},
  ): Promise<SlashCommand> {
    const envelopeId = `env-${++this.#envelopes}`;
    const payload = {
      token: 'verification-token-unused',
      team_id: 'T0FAKE',
      team_domain: 'fake',
      channel_id: fields.channel_id ?? 'C0GENERAL',
      channel_name: 'general',
      user_id: fields.user_id ?? 'U0ALICE',
      user_name: fields.user_name ?? 'alice',
      command: fields.command ?? '/ding',
      text: fields.text ?? '',
      api_app_id: 'A0FAKE',
      is_enterprise_install: 'false',
      response_url: fields.response_url ?? `${this.url}commands/respond/${envelopeId}`,
      trigger_id: `trigger-${envelopeId}`,
    };
    const ack = await this.#deliver({ envelope_id: envelopeId, type: 'slash_commands', payload, accepts_response_payload: true }, timeoutMs);
    return { envelopeId, ack };
  }

  /** A button click (block_actions) over Socket Mode; resolves on the ack. */
  async blockAction(actionId: string, { timeoutMs = 5000 } = {}): Promise<Record<string, unknown>> {
    const envelopeId = `env-${++this.#envelopes}`;
    const payload = { type: 'block_actions', user: { id: 'U0ALICE' }, actions: [{ action_id: actionId, type: 'button' }] };
    return this.#deliver({ envelope_id: envelopeId, type: 'interactive', payload, accepts_response_payload: false }, timeoutMs);
  }

  /** The answers posted to a command's response_url (or by chat.postEphemeral for its user). */
  async waitForAnswer(envelopeId: string, { timeoutMs = 5000 } = {}): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.answers.get(envelopeId)?.[0];
      if (got) return got;
      if (Date.now() > deadline) throw new Error(`no answer to ${envelopeId} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Asks every connection to reconnect, as Slack does a few times a day. */
  refresh(): void {
    for (const ws of this.#sockets) {
      this.disconnectsSent += 1;
      ws.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'fake-applink' } }));
      // Slack closes the old connection itself soon after.
      setTimeout(() => ws.close(1000), 200).unref();
    }
  }

  /** Kills every Socket Mode connection without a close frame (a network fault). */
  dropSockets(): void {
    for (const ws of this.#sockets) ws.terminate();
  }

  /** Resolves once at least `n` hellos have been sent in total. */
  async waitForHellos(n: number, { timeoutMs = 10_000 } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.helloCount < n || this.openSockets === 0) {
      if (Date.now() > deadline) throw new Error(`expected ${n} Socket Mode connections, saw ${this.helloCount}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async #deliver(envelope: { envelope_id: string } & Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    const ws = await this.#openSocket(timeoutMs);
    const acked = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(envelope.envelope_id);
        reject(new Error(`envelope ${envelope.envelope_id} was not acknowledged within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(envelope.envelope_id, {
        resolve: (payload) => {
          clearTimeout(timer);
          resolve(payload);
        },
      });
    });
    ws.send(JSON.stringify(envelope));
    return acked;
  }

  async #openSocket(timeoutMs: number): Promise<WebSocket> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const open = [...this.#sockets].filter((s) => s.readyState === s.OPEN && (s as WebSocket & { hello?: boolean }).hello);
      const ws = open[open.length - 1];
      if (ws) return ws;
      if (Date.now() > deadline) throw new Error(`no Socket Mode connection within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        this.#socketWaiters.add(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  #onSocket(ws: WebSocket): void {
    this.socketsOpened += 1;
    this.#sockets.add(ws);
    ws.on('close', () => this.#sockets.delete(ws));
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      let msg: { envelope_id?: string; payload?: Record<string, unknown> };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return;
      }
      if (!msg.envelope_id) return;
      this.timeline.push(`ack:${msg.envelope_id}`);
      this.#pending.get(msg.envelope_id)?.resolve(msg.payload ?? {});
      this.#pending.delete(msg.envelope_id);
    });
    if (!this.sendHello) return;
    ws.send(
      JSON.stringify({ type: 'hello', num_connections: this.#sockets.size, debug_info: { host: 'fake-applink', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0FAKE' } }),
    );
    (ws as WebSocket & { hello?: boolean }).hello = true;
    this.helloCount += 1;
    for (const wake of this.#socketWaiters) wake();
    this.#socketWaiters.clear();
  }

  // ---- the Web API ----

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = req.url ?? '/';
    if (path.startsWith('/commands/respond/')) {
      const id = path.slice('/commands/respond/'.length);
      const parsed = JSON.parse(body || '{}') as Record<string, unknown>;
      this.#answer(id, parsed);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!path.startsWith('/api/')) return void res.writeHead(404).end();
    const method = path.slice('/api/'.length).split('?')[0]!;
    const args = parseArgs(req.headers['content-type'] ?? '', body);
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '') || String(args.token ?? '');

    const fault = this.#takeFault(method, String(args.channel ?? '')) ?? (method === 'chat.postMessage' ? await this.beforePost?.(args) : undefined);
    if (fault) {
      this.calls.push({ method, args, outcome: describeFault(fault) });
      return this.#fail(res, fault);
    }
    const result = this.#call(method, args, token);
    if (method === 'chat.postMessage' && result.ok && this.afterPost) {
      const stored = this.messages.find((m) => m.ts === result.ts && m.channel === result.channel)!;
      const after = await this.afterPost(stored);
      if (after) {
        this.calls.push({ method, args, outcome: `stored, then ${describeFault(after)}` });
        return this.#fail(res, after);
      }
    }
    this.calls.push({ method, args, outcome: result.ok ? 'ok' : String(result.error ?? result.status) });
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
        this.#answer(`ephemeral:${String(args.channel)}:${String(args.user)}`, args);
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
    return this.#page(top, args, 'newest-first', { byDefault: 100, max: 999 });
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
    return this.#page(thread, args, 'oldest-first', { byDefault: 1000, max: 1000 });
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
  #page(list: FakeMessage[], args: Record<string, unknown>, order: 'newest-first' | 'oldest-first', limits: { byDefault: number; max: number }): Record<string, unknown> & { ok: boolean } {
    const inclusive = truthy(args.inclusive);
    const oldest = args.oldest === undefined ? undefined : String(args.oldest);
    const latest = args.latest === undefined ? undefined : String(args.latest);
    const inRange = (ts: string) =>
      (oldest === undefined || (inclusive ? tsCompare(ts, oldest) >= 0 : tsCompare(ts, oldest) > 0)) &&
      (latest === undefined || (inclusive ? tsCompare(ts, latest) <= 0 : tsCompare(ts, latest) < 0));
    let items = list.filter((m) => inRange(m.ts));
    if (args.cursor) {
      const from = /^next_ts:(\d+\.\d+)$/.exec(Buffer.from(String(args.cursor), 'base64').toString('utf8'))?.[1];
      if (!from) return { ok: false, error: 'invalid_cursor' };
      items = items.filter((m) => (order === 'newest-first' ? tsCompare(m.ts, from) <= 0 : tsCompare(m.ts, from) >= 0));
    }
    const asked = Number(args.limit ?? limits.byDefault);
    const limit = Math.min(limits.max, Math.max(1, Number.isFinite(asked) && asked > 0 ? asked : limits.byDefault));
    const page = items.slice(0, limit);
    const next = items[limit];
    const withMetadata = truthy(args.include_all_metadata);
    return {
      ok: true,
      messages: page.map((m) => this.#served(m, withMetadata)),
      has_more: next !== undefined,
      ...(next ? { response_metadata: { next_cursor: Buffer.from(`next_ts:${next.ts}`).toString('base64') } } : {}),
    };
  }

  #served(m: FakeMessage, withMetadata: boolean): Record<string, unknown> {
    const replies = m.threadTs ? 0 : this.messages.filter((r) => r.threadTs === m.ts && r.channel === m.channel).length;
    return {
      type: 'message',
      ...(m.user ? { user: m.user } : { user: 'U0BOT', bot_id: 'B0BOT', app_id: 'A0FAKE' }),
      ts: m.ts,
      text: m.text,
      ...(m.blocks.length > 0 ? { blocks: m.blocks } : {}),
      ...(m.threadTs ? { thread_ts: m.threadTs } : replies > 0 ? { thread_ts: m.ts, reply_count: replies } : {}),
      ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
    };
  }

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

  #answer(id: string, body: Record<string, unknown>): void {
    this.timeline.push(`answer:${id}`);
    const list = this.answers.get(id) ?? [];
    list.push(body);
    this.answers.set(id, list);
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The Web API client sends forms whose nested values (blocks, metadata) are JSON strings. */
function parseArgs(contentType: string, body: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return JSON.parse(body || '{}') as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    out[key] = (key === 'blocks' || key === 'attachments' || key === 'metadata') && /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Form values arrive as strings: "true" and "1" are true. */
function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** Orders two Slack ts ("seconds.micros", or whole seconds) by time, without float rounding. */
function tsCompare(a: string, b: string): number {
  const key = (ts: string) => {
    const [s = '0', f = ''] = ts.split('.');
    return s.padStart(12, '0') + f.padEnd(6, '0').slice(0, 6);
  };
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function describeFault(fault: Fault): string {
  if ('drop' in fault) return 'dropped';
  if ('error' in fault) return fault.error;
  return `HTTP ${fault.status}`;
}
