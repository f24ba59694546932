// GET /v1/status/stream: the page's live feed as server-sent events. The page reads it
// with fetch (EventSource cannot send the Authorization header), so the stream sits
// behind the same bearer token as everything else.
//   event: ready    {at}                         once, when the stream is open
//   event: event    EventSummary                 a new event
//   event: step     {eventId, step, event}       a trace step (event null while unseen)
//   event: device   DeviceView | {id, removed}   a bell changed
//   event: broker   {connected}                  the server's broker connection changed
//   event: slack    SlackHealth                  the Slack part's bot token state changed
//   event: all-mute {allMutedUntil, allMutedBy}  the mute of every bell changed
import type { FastifyPluginAsync } from 'fastify';
import type { ServerResponse } from 'node:http';
import { authenticateBearer, type ApiToken } from '../auth.js';
import { HttpError } from '../errors.js';
import type { StatusPart, StatusUpdates } from './part.js';

export interface StatusStreamOptions {
  status: StatusPart;
  tokens: readonly ApiToken[];
  /** Open streams at most; each is a page left open somewhere. */
  maxStreams?: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  pingMs?: number;
}

/** A reader this far behind is dropped; its page reconnects and reloads. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const FORWARDED = ['event', 'step', 'device', 'broker', 'slack', 'all-mute'] as const satisfies ReadonlyArray<keyof StatusUpdates>;

export const statusStream: FastifyPluginAsync<StatusStreamOptions> = async (app, opts) => {
  const maxStreams = opts.maxStreams ?? 20;
  const pingMs = opts.pingMs ?? 25_000;
  const open = new Set<() => void>();

  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get(
    '/v1/status/stream',
    {
      // A HEAD would open a stream that never sends a body, holding a slot until the client leaves.
      exposeHeadRoute: false,
      onRequest: async (request) => {
        request.tokenName = authenticateBearer(request, opts.tokens, 'read');
      },
    },
    async (request, reply) => {
      if (open.size >= maxStreams) throw new HttpError('too_many_streams', `at most ${maxStreams} live streams are served at once`);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const listeners = FORWARDED.map((name) => {
        const fn = (data: unknown) => send(res, name, data) || close();
        opts.status.on(name, fn);
        return [name, fn] as const;
      });
      const ping = setInterval(() => void (write(res, ': ping\n\n') || close()), pingMs);
      let closed = false;
      function close(): void {
        if (closed) return;
        closed = true;
        open.delete(close);
        clearInterval(ping);
        for (const [name, fn] of listeners) opts.status.off(name, fn);
        res.end();
      }
      open.add(close);
      res.on('close', close);
      send(res, 'ready', { at: new Date().toISOString() });
    },
  );
};

function send(res: ServerResponse, event: string, data: unknown): boolean {
  return write(res, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** False when the reader has fallen too far behind (or is gone) and the stream should end. */
function write(res: ServerResponse, text: string): boolean {
  if (res.destroyed || res.writableEnded || res.writableLength > MAX_BUFFERED_BYTES) return false;
  res.write(text);
  return true;
}
