// A TCP proxy between a client and the broker that can swallow what the client
// sends: PUBACKs that never reach the broker, as when a process dies right after
// writing them.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export class SwallowingProxy {
  /** While true, bytes from the client to the broker are thrown away. */
  swallowUpstream = false;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #target: { host: string; port: number };

  constructor(brokerUrl: string) {
    const u = new URL(brokerUrl);
    this.#target = { host: u.hostname, port: Number(u.port) };
  }

  get url(): string {
    const addr = this.#server?.address();
    if (!addr || typeof addr !== 'object') throw new Error('proxy not started');
    return `mqtt://127.0.0.1:${addr.port}`;
  }

  async start(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (chunk) => {
        if (!this.swallowUpstream) upstream.write(chunk);
      });
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
