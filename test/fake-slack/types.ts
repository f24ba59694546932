// The fake Slack's vocabulary: tokens, scopes, faults, messages as stored, and options.
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
  /** When the request arrived (epoch ms), to measure the sink's waits between calls. */
  at: number;
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

export interface Pending {
  resolve: (payload: Record<string, unknown>) => void;
}

export interface SlashCommand {
  envelopeId: string;
  /** The payload of the ack (what Slack shows at once), {} for a bare ack. */
  ack: Record<string, unknown>;
}
