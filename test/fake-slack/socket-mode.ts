// The Socket Mode half of the fake Slack: the WebSocket at /link (hello, envelopes, acks,
// refresh disconnects), slash commands and button clicks sent over it, and the answers
// bellhop posts back. FakeSlack extends it with the Web API.
import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Pending, SlashCommand } from './types.js';

export abstract class FakeSocketMode {
  /** Ack and answer order of slash commands ('ack:<id>', 'answer:<id>', 'dispatch_failed:<id>'), and the disconnects sent ('disconnect:<reason>'). */
  readonly timeline: string[] = [];
  readonly answers = new Map<string, Array<Record<string, unknown>>>();
  /** Every ack's payload, by envelope id (a repeated envelope may be acked more than once). */
  readonly acks = new Map<string, Array<Record<string, unknown>>>();
  /** Socket Mode connections that got a hello, ever. */
  helloCount = 0;
  disconnectsSent = 0;
  /** False: new Socket Mode connections get no hello (a stuck Slack edge). */
  sendHello = true;
  /** Socket Mode connections opened, with or without a hello. */
  socketsOpened = 0;
  /** Which connection (1 = the first opened) each envelope was sent on. */
  readonly sentOn = new Map<string, number>();
  #numbers = new WeakMap<WebSocket, number>();
  #wss: WebSocketServer | undefined;
  #sockets = new Set<WebSocket>();
  #pending = new Map<string, Pending>();
  #envelopes = 0;
  #socketWaiters = new Set<() => void>();

  abstract get url(): string;

  /** Open Socket Mode connections that got their hello. */
  get openSockets(): number {
    return [...this.#sockets].filter((s) => s.readyState === s.OPEN).length;
  }

  protected acceptSockets(server: Server): void {
    this.#wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/link')) return void socket.destroy();
      this.#wss!.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws));
    });
  }

  protected closeSockets(): void {
    for (const ws of this.#sockets) ws.terminate();
    this.#wss?.close();
  }

  protected answer(id: string, body: Record<string, unknown>): void {
    this.timeline.push(`answer:${id}`);
    const list = this.answers.get(id) ?? [];
    list.push(body);
    this.answers.set(id, list);
  }

  /**
   * Sends a slash command over Socket Mode and resolves on the ack. By default it waits for a
   * connection (a test's app may still be starting); `queue: false` does what Slack does with a
   * command when the app has no connection: fails it at once (`dispatch_failed:<id>` in the
   * timeline). `repeat` sends the same envelope that many times, as Slack does when an ack
   * does not come.
   */
  async slashCommand(
    fields: { text?: string; command?: string; user_id?: string; user_name?: string; channel_id?: string; response_url?: string },
    { timeoutMs = 5000, queue = true, repeat = 1 }: { timeoutMs?: number; queue?: boolean; repeat?: number } = {},
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
    const ack = await this.#deliver({ envelope_id: envelopeId, type: 'slash_commands', payload, accepts_response_payload: true }, timeoutMs, { queue, repeat });
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

  /**
   * Asks every open connection to reconnect, as Slack does a few times a day: with `warningMs`,
   * first a `disconnect` with reason `warning`, then `refresh_requested` that long after; Slack
   * closes the old connection itself `closeMs` after that. Connections opened meanwhile are
   * left alone.
   */
  refresh({ warningMs, closeMs = 200 }: { warningMs?: number; closeMs?: number } = {}): void {
    const send = (ws: WebSocket, reason: string) => {
      if (ws.readyState !== ws.OPEN) return;
      this.disconnectsSent += 1;
      this.timeline.push(`disconnect:${reason}`);
      ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-applink' } }));
    };
    const refreshNow = (targets: WebSocket[]) => {
      for (const ws of targets) send(ws, 'refresh_requested');
      setTimeout(() => {
        for (const ws of targets) if (ws.readyState === ws.OPEN) ws.close(1000);
      }, closeMs).unref();
    };
    const targets = [...this.#sockets];
    if (warningMs === undefined) return refreshNow(targets);
    for (const ws of targets) send(ws, 'warning');
    setTimeout(() => refreshNow(targets), warningMs).unref();
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

  async #deliver(
    envelope: { envelope_id: string } & Record<string, unknown>,
    timeoutMs: number,
    { queue = true, repeat = 1 }: { queue?: boolean; repeat?: number } = {},
  ): Promise<Record<string, unknown>> {
    const ws = queue ? await this.#openSocket(timeoutMs) : this.#helloSocket();
    if (!ws) {
      this.timeline.push(`dispatch_failed:${envelope.envelope_id}`);
      throw new Error(`dispatch_failed: no Socket Mode connection for ${envelope.envelope_id}`);
    }
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
    this.sentOn.set(envelope.envelope_id, this.#numbers.get(ws) ?? 0);
    for (let i = 0; i < repeat; i++) ws.send(JSON.stringify(envelope));
    return acked;
  }

  /** The newest open connection that got its hello, where Slack sends an envelope now. */
  #helloSocket(): WebSocket | undefined {
    const open = [...this.#sockets].filter((s) => s.readyState === s.OPEN && (s as WebSocket & { hello?: boolean }).hello);
    return open[open.length - 1];
  }

  async #openSocket(timeoutMs: number): Promise<WebSocket> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ws = this.#helloSocket();
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
    this.#numbers.set(ws, this.socketsOpened);
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
      this.acks.set(msg.envelope_id, [...(this.acks.get(msg.envelope_id) ?? []), msg.payload ?? {}]);
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
}
