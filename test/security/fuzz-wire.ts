// The fuzz pass's plumbing: a seeded generator, fastify's route tree read into paths, and
// the two ways a request is sent (an HTTP client, and raw bytes on a socket).
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Shot {
  index: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** The server may close the connection instead of answering (oversized headers). */
  mayReset: boolean;
}

/** mulberry32: small, fast, and the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Route {
  path: string;
  methods: string[];
}

/** Reads fastify's printRoutes tree ("├── /v1/events (POST)", children indented by 4) into full paths. */
export function parseRouteTree(tree: string): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^(.*?)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = `${stack.at(-1) ?? ''}${m[2]}`;
    stack.push(path);
    if (m[3]) routes.push({ path, methods: m[3].split(', ') });
  }
  return routes;
}

export interface Outcome {
  status?: number;
  error?: string;
  leaked?: boolean;
}

export function send(port: number, shot: Shot): Promise<Outcome> {
  return new Promise((resolve) => {
    let req: ReturnType<typeof httpRequest>;
    try {
      // A fresh connection each time: reusing one the server chose to close after an error
      // answer would fail in the client (ECONNRESET), which says nothing about the server.
      req = httpRequest({ host: '127.0.0.1', port, method: shot.method, path: shot.path, headers: shot.headers, timeout: 5000, agent: false });
    } catch (err) {
      // The client refused to send it (an invalid path or header): nothing to learn here.
      return resolve({ error: `not sent: ${(err as Error).message}` });
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size < 64 * 1024) chunks.push(c);
        // A stream (the status page's event stream) never ends: its status is all we need.
        if (res.headers['content-type']?.includes('text/event-stream')) res.destroy();
      });
      const done = () => {
        const text = Buffer.concat(chunks).toString('latin1');
        resolve({ status: res.statusCode, leaked: /root:x:0:0|"devDependencies"/.test(text) });
      };
      res.on('end', done);
      res.on('close', done);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end(shot.body);
  });
}

/** Requests an HTTP client would refuse to write, straight onto a socket. */
export const RAW = [
  'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
  'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad\u0000Header: 1\r\n\r\n',
  'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n',
  'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\n Folded: header\r\n\r\n',
  'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
  `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  'GET /healthz HTTP/1.1\r\n\r\n',
  '\r\n\r\n\r\n',
  'GET\r\n',
];

export function sendRaw(port: number, raw: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.setTimeout(3000, () => socket.destroy());
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(got));
    socket.end(raw);
  });
}

const gc = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();
export const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
