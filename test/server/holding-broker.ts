// An in-process aedes broker that takes publishes on chosen topics but withholds their
// acknowledgement (and their routing) until the test releases them: a publish the server
// sent and the broker never confirmed in time.
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { Aedes } from 'aedes';

export interface HoldingBroker {
  url: string;
  /** Topics of the publishes held so far (released or not). */
  held: string[];
  /** Lets every held publish through: acknowledged and routed. */
  release(): void;
  close(): Promise<void>;
}

/** Holds every publish whose topic `hold` returns true for. */
export async function holdingBroker(hold: (topic: string) => boolean): Promise<HoldingBroker> {
  const held: string[] = [];
  let waiting: Array<() => void> = [];
  const aedes = await Aedes.createBroker({
    authorizePublish: (_client, packet, done) => {
      if (!hold(packet.topic)) return done(null);
      held.push(packet.topic);
      waiting.push(() => done(null));
    },
  });
  const tcp: Server = createServer(aedes.handle);
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  return {
    url: `mqtt://127.0.0.1:${(tcp.address() as { port: number }).port}`,
    held,
    release() {
      const go = waiting;
      waiting = [];
      for (const f of go) f();
    },
    async close() {
      await new Promise<void>((r) => aedes.close(() => r()));
      tcp.close();
    },
  };
}
