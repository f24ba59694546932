// One Socket Mode connection per SocketModeClient, so a refresh can open the new connection
// while the old one still serves. The client library closes its socket the moment Slack sends
// any `disconnect`, even the `warning` that comes well before Slack cuts, and holds one socket
// at a time: replacing it in place left a few milliseconds in which an envelope reached
// nobody. With two connections open, an envelope may come on either, so each is let through
// once by its envelope_id.
import { SocketModeClient, type SocketModeOptions } from '@slack/socket-mode';
import type { Clock } from '../../shared/clock.js';
import type { Ack } from './commands.js';

/** Slack is about to cut the connection, which still works until then: the next one is opened first. */
export const HANDOVER_REASONS = new Set(['warning', 'refresh_requested']);

export interface EnvelopeArgs {
  ack: Ack;
  body: unknown;
  type?: string;
  envelope_id?: string;
}

export interface ConnectionHandlers {
  /** `ack` is the envelope's, counted until it settles (a connection closes once its envelopes are acked). */
  envelope: (args: EnvelopeArgs, ack: Ack) => void;
  disconnectRequested: (reason: string) => void;
  disconnected: () => void;
}

/** Keeps the socket open on a handover's `disconnect`; any other one closes it as the library does. */
class HandoverClient extends SocketModeClient {
  protected override async onWebSocketMessage(data: string | ArrayBuffer, isBinary: boolean): Promise<void> {
    const reason = isBinary ? undefined : disconnectReason(data);
    if (reason !== undefined) {
      this.emit('disconnect_requested', reason);
      if (HANDOVER_REASONS.has(reason)) return;
    }
    return super.onWebSocketMessage(data, isBinary);
  }
}

export class Connection {
  readonly client: SocketModeClient;
  /** Set once Slack asked for a new connection and the next one is being opened. */
  handingOver = false;
  /** The reason of the last `disconnect` Slack sent on it. */
  reason: string | undefined;
  #inflight = 0;
  #idle: Array<() => void> = [];
  #unlisten: () => void;

  constructor(options: SocketModeOptions, on: ConnectionHandlers) {
    const client = new HandoverClient(options);
    this.client = client;
    // eventemitter3 passes untyped arguments; each handler checks what it uses.
    const onEnvelope = (args: EnvelopeArgs) => on.envelope(args, this.#counted(args.ack));
    const onRequest = (reason: string) => {
      this.reason = reason;
      on.disconnectRequested(reason);
    };
    const onEnd = () => on.disconnected();
    client.on('slack_event', onEnvelope);
    client.on('disconnect_requested', onRequest);
    client.on('disconnected', onEnd);
    this.#unlisten = () => {
      client.off('slack_event', onEnvelope);
      client.off('disconnect_requested', onRequest);
      client.off('disconnected', onEnd);
    };
  }

  /** Resolves on Slack's hello; rejects when the connection fails or closes before it. */
  start(): Promise<unknown> {
    return this.client.start();
  }

  /** Stops hearing from it (its envelopes, its end). */
  dispose(): void {
    this.#unlisten();
  }

  /**
   * Closes it once the envelopes it brought are acked (waiting at most `drainMs`: an ack sent
   * after the close would be lost, and Slack shows the user an error), then waits at most
   * `closeMs` for the close handshake, so a dead peer cannot hold anything up.
   */
  async close(clock: Clock, drainMs: number, closeMs: number): Promise<void> {
    if (this.#inflight > 0 && drainMs > 0) await within(clock, drainMs, new Promise<void>((resolve) => this.#idle.push(resolve)));
    await within(clock, closeMs, this.client.disconnect().catch(() => undefined));
  }

  #counted(ack: Ack): Ack {
    this.#inflight += 1;
    let settled = false;
    return async (response) => {
      try {
        await ack(response);
      } finally {
        if (!settled) {
          settled = true;
          this.#inflight -= 1;
          if (this.#inflight === 0) for (const wake of this.#idle.splice(0)) wake();
        }
      }
    };
  }
}

/** How many envelope ids are remembered: far more than arrive while two connections overlap. */
const REMEMBERED = 1000;

/** Lets each envelope through once, whichever connection it comes on; a repeat is acked like the first. */
export class EnvelopeGate {
  #acks = new Map<string, Promise<Record<string, unknown> | undefined>>();

  /** The ack to handle the envelope with, or undefined for a repeat (acked here with the first one's answer). */
  admit(envelopeId: unknown, ack: Ack): Ack | undefined {
    if (typeof envelopeId !== 'string' || envelopeId === '') return ack;
    const first = this.#acks.get(envelopeId);
    if (first) {
      // Slack sends an envelope again when it got no ack: the first may have gone to a socket just closed.
      void first.then((response) => ack(response)).catch(() => undefined);
      return undefined;
    }
    let answered: (response: Record<string, unknown> | undefined) => void = () => undefined;
    this.#acks.set(envelopeId, new Promise((resolve) => (answered = resolve)));
    if (this.#acks.size > REMEMBERED) this.#acks.delete(this.#acks.keys().next().value!);
    return (response) => {
      answered(response);
      return ack(response);
    };
  }
}

function disconnectReason(data: string | ArrayBuffer): string | undefined {
  const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
  if (!text.includes('"disconnect"')) return undefined;
  try {
    const msg = JSON.parse(text) as { type?: unknown; reason?: unknown };
    if (msg.type !== 'disconnect') return undefined;
    return typeof msg.reason === 'string' ? msg.reason : '';
  } catch {
    // Not JSON: the library ignores it too.
    return undefined;
  }
}

function within(clock: Clock, ms: number, work: Promise<unknown>): Promise<void> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, ms)));
  return Promise.race([work.then(() => undefined), timeout]).finally(() => {
    if (timer) clock.clearTimeout(timer);
  });
}
