// The embedded MQTT broker: aedes on TCP, sessions and queued QoS 1 messages on
// disk, logins and per-role topic ACLs from the config.
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { Level } from 'level';
import type { BrokerConfig } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { Part } from '../shared/part.js';
import { Topics, topicMatches } from '../shared/topics.js';
import { secretEquals } from '../shared/secrets.js';
import { grantsFor, mayPublish, maySubscribe, type Grants } from './acl.js';
import { IngressLog, type Leftover } from './ingress-log.js';
import { GroupCommit } from './group-commit.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { DurableSessions } from './sessions.js';
import { PersistenceGuard } from './persistence-guard.js';
import { connectableUrl } from '../shared/url.js';
import { listenError } from '../shared/listen.js';
import { openStore } from '../shared/data-folder.js';
import type { LocalBroker } from '../shared/local-broker.js';

export interface BrokerOptions {
  config: BrokerConfig;
  topicPrefix: string;
  dataDir: string;
  logger: Logger;
  /** group: fsync each group of writes before its PUBACKs go out (survives a power cut); none: leave it to the OS cache. */
  dataSync?: 'group' | 'none';
  /** Sees the store before anything is written (tests that watch its batches and syncs). */
  watchStore?: (db: Level<string, Buffer>) => void;
  /** Wraps aedes' persistence (instrumentation, and tests that stop it at a chosen instant). */
  wrapPersistence?: (persistence: object) => object;
}

type Subscriptions = Record<string, { qos: number }>;

/** How long a message may wait for a session before that session is written down as owing it. */
const NOTE_OWED_AFTER_MS = 1000;

const OPEN: Grants = { publish: ['#'], subscribe: ['#'] };

/** A duplicates table that remembers nothing, so aedes never drops a message as already seen. */
const NEVER_DUPLICATE = new Proxy(Object.create(null) as object, {
  get: () => 0,
  set: () => true,
  deleteProperty: () => true,
});

export class BrokerPart implements Part {
  readonly name = 'broker';
  #opts: BrokerOptions;
  #log: Logger;
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  #db: Level<string, Buffer> | undefined;
  #sockets = new Set<Socket>();
  #guard = new PersistenceGuard();
  #ingress: IngressLog | undefined;
  #writer: GroupCommit | undefined;
  #ledger: DeliveryLedger | undefined;
  #sessions: DurableSessions | undefined;
  #noteTimer: NodeJS.Timeout | undefined;
  // Grants per connected client, set at authentication.
  #grants = new WeakMap<Client, Grants>();

  constructor(opts: BrokerOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ part: 'broker' });
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const addr = this.#server?.address();
    return typeof addr === 'object' && addr ? addr.port : this.#opts.config.port;
  }

  get url(): string {
    return connectableUrl(this.#opts.config.tls ? 'mqtts' : 'mqtt', this.#opts.config.host, this.port);
  }

  async start(): Promise<void> {
    const { config, dataDir } = this.#opts;
    // Read before opening anything, so a missing file leaves nothing to clean up.
    const tls = config.tls && { cert: readTlsFile(config.tls.certFile, 'certFile'), key: readTlsFile(config.tls.keyFile, 'keyFile') };
    const options: AedesOptions = {
      authenticate: (client, username, password, done) => this.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => {
        const grants = client ? this.#grants.get(client) : OPEN;
        if (packet.topic.startsWith('$SYS') || !grants || !mayPublish(grants, packet.topic)) {
          this.#log.warn({ clientId: client?.id, topic: packet.topic }, 'publish denied by ACL');
          return done(new Error(`publish to ${packet.topic} not allowed`));
        }
        if (packet.qos === 0) return done(null);
        this.#logIngress(packet).then(() => done(null), (err: Error) => done(err));
      },
      published: (packet, client, done) => {
        if (client && packet.qos > 0) this.#ledger?.routed(packet.brokerId, packet.brokerCounter);
        done(null);
      },
      // aedes caps a delivery at the subscription's QoS only for exact topics; a QoS 1 wildcard
      // subscriber got QoS 2, which mqtt.js acknowledges (PUBREC) before it has handled it.
      authorizeForward: (client, packet) => {
        const subs = (client as unknown as { subscriptions: Subscriptions }).subscriptions;
        let max = -1;
        for (const filter in subs) if (topicMatches(filter, packet.topic)) max = Math.max(max, subs[filter]!.qos);
        return max >= 0 && packet.qos > max ? ({ ...packet, qos: max } as typeof packet) : packet;
      },
      authorizeSubscribe: (client, sub, done) => {
        const grants = this.#grants.get(client);
        if (!grants || !maySubscribe(grants, sub.topic)) {
          this.#log.warn({ clientId: client.id, topic: sub.topic }, 'subscribe denied by ACL');
          // A negated subscription (SUBACK 128) tells the client without dropping it.
          return done(null, null);
        }
        done(null, sub);
      },
    };
    if (config.persistence === 'level') {
      const dir = join(dataDir, 'broker');
      this.#db = new Level<string, Buffer>(dir, { valueEncoding: 'buffer' });
      await openStore(this.#db, dir, "the broker's sessions and retained messages");
      this.#opts.watchStore?.(this.#db);
      const writer = new GroupCommit(this.#db, {
        sync: this.#opts.dataSync !== 'none',
        onError: (err) => this.#log.error({ err: err.message }, 'broker store write failed: a restart may publish some acknowledged messages again'),
      });
      const ingress = new IngressLog(this.#db, writer);
      const ledger = new DeliveryLedger({
        settled: (key, noted) => ingress.remove(key, noted),
        note: (key, clientIds) => ingress.noteOwed(key, clientIds),
        noteAfterMs: NOTE_OWED_AFTER_MS,
      });
      const sessions = new DurableSessions(this.#db, writer, ledger);
      const wrap = this.#opts.wrapPersistence ?? ((p: object) => p);
      options.persistence = this.#guard.wrap(wrap(sessions)) as AedesOptions['persistence'];
      this.#writer = writer;
      this.#ingress = ingress;
      this.#ledger = ledger;
      this.#sessions = sessions;
      this.#noteTimer = setInterval(() => ledger.noteSlow(), NOTE_OWED_AFTER_MS).unref();
    }
    this.#aedes = await Aedes.createBroker(options);
    if (this.#db && this.#sessions && this.#ingress) {
      const { carryOverLegacyStore } = await import('./legacy-store.js');
      const carried = await carryOverLegacyStore(this.#db, this.#sessions, this.#ingress);
      if (carried) this.#log.warn(carried, "carried the sessions, retained messages and queued messages of an older bellhop's broker store over");
    }
    await this.#replayIngress(this.#aedes);
    this.#aedes.on('clientError', (client, err) => this.#log.debug({ clientId: client.id, err: err.message }, 'client error'));
    // aedes drops, per subscriber, any message whose broker counter is not above the last one
    // delivered to it (a guard for clustered brokers). A retained publish is stored before it is
    // routed, so a plain publish right behind it overtakes it and the retained one was silently
    // lost. One broker has no such duplicates to guard against (overlapping subscriptions may
    // repeat a message, which MQTT allows and every bellhop subscriber dedupes by event id).
    this.#aedes.on('client', (client) => {
      (client as unknown as { duplicates: object }).duplicates = NEVER_DUPLICATE;
    });
    const onSocket = (socket: Socket) => {
      // Nagle plus delayed ACKs would hold small MQTT packets back by ~40 ms.
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      this.#aedes!.handle(socket);
    };
    if (tls) {
      const server = createTlsServer(tls, onSocket);
      // A failed handshake (wrong CA, plain MQTT on the TLS port) only costs that one socket.
      server.on('tlsClientError', (err) => this.#log.debug({ err: err.message }, 'TLS handshake failed'));
      this.#server = server;
    } else {
      this.#server = createServer(onSocket);
    }
    this.#server.listen(config.port, config.host);
    try {
      await once(this.#server, 'listening');
    } catch (err) {
      throw listenError(err, {
        what: 'the embedded MQTT broker',
        host: config.host,
        port: config.port,
        portSetting: 'BELLHOP_MQTT_PORT (broker.port)',
        hostSetting: 'broker.host',
        alternative: 'set mqtt.url (BELLHOP_MQTT_URL) to use the broker that holds it instead of starting one',
      });
    }
    this.#log.info({ url: this.url, persistence: config.persistence, tls: Boolean(config.tls) }, 'broker listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const aedes = this.#aedes;
    this.#server = undefined;
    this.#aedes = undefined;
    // aedes first: it closes its clients and writes their sessions while the store is open.
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    clearInterval(this.#noteTimer);
    // Whoever still owes a message is written down, so the next start queues it for them alone.
    this.#ledger?.noteSlow(0);
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of this.#sockets) s.destroy();
      await closed;
    }
    if (this.#db) {
      // Client clean-up (wills, session writes, retained lookups) finishes after close's
      // callback; closing the store under it would throw LEVEL_*_NOT_OPEN from inside aedes.
      await this.#guard.drain(2000);
      await this.#writer?.flush();
      this.#writer = undefined;
      this.#ingress = undefined;
      this.#ledger = undefined;
      this.#sessions = undefined;
      await this.#db.close();
      this.#db = undefined;
    }
  }

  /** The broker for parts of this same process: no loopback socket, no MQTT encoding (see LocalBroker). */
  local(): LocalBroker {
    const running = () => {
      if (!this.#aedes) throw new Error('the embedded MQTT broker is not running');
      return this.#aedes;
    };
    return {
      publish: async (topic, payload, qos) => {
        const packet = { cmd: 'publish' as const, topic, payload, qos, retain: false, dup: false };
        await this.#logIngress(packet);
        await new Promise<void>((resolve, reject) => running().publish(packet, (err) => (err ? reject(err) : resolve())));
        const tagged = packet as typeof packet & { brokerId?: string; brokerCounter?: number };
        if (tagged.brokerId && tagged.brokerCounter) this.#ledger?.routed(tagged.brokerId, tagged.brokerCounter);
      },
      subscribe: async (filter, handler) => {
        const aedes = running();
        const deliver = (packet: { topic: string; payload: Buffer | string }, cb: () => void) => {
          handler(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
          cb();
        };
        await new Promise<void>((resolve) => aedes.subscribe(filter, deliver, () => resolve()));
        return () => new Promise<void>((resolve) => (this.#aedes ? this.#aedes.unsubscribe(filter, deliver, () => resolve()) : resolve()));
      },
    };
  }

  /**
   * Writes a QoS 1/2 publish to the ingress log before it is acknowledged, numbered here
   * rather than by aedes' publish, so the delivery ledger can follow its copies.
   */
  async #logIngress(packet: { topic: string; payload: Buffer | string; retain: boolean }): Promise<void> {
    const { ingress, ledger } = { ingress: this.#ingress, ledger: this.#ledger };
    if (!ingress || !ledger || !this.#aedes) return;
    const aedes = this.#aedes as unknown as { id: string; counter: number };
    const tagged = packet as typeof packet & { brokerId: string; brokerCounter: number };
    tagged.brokerId = aedes.id;
    const counter = (tagged.brokerCounter = ++aedes.counter);
    await ingress.add({ topic: packet.topic, payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload, retain: packet.retain, brokerId: aedes.id, brokerCounter: counter });
    ledger.open(aedes.id, counter, ingress.keyOf(counter));
  }

  /**
   * What an earlier run acknowledged and not every durable session had (see IngressLog):
   * queued again for the sessions written down as owing it, or, when it was too recent to
   * be written down (a crash), published again to everyone (subscribers dedupe by event id).
   */
  async #replayIngress(aedes: Aedes): Promise<void> {
    const ingress = this.#ingress;
    if (!ingress) return;
    let queued = 0;
    let published = 0;
    for await (const left of ingress.leftovers()) {
      if (left.owed) queued += (await this.#queueAgain(left, left.owed)) ? 1 : 0;
      else if (await this.#publishAgain(aedes, left)) published++;
    }
    if (queued + published > 0) this.#log.warn({ queued, published }, 'delivering again what was acknowledged before the last stop');
  }

  async #queueAgain({ key, entry }: Leftover, owed: string[]): Promise<boolean> {
    const ledger = this.#ledger!;
    const subs = (await this.#sessions!.subscriptionsByTopic(entry.topic)).filter((sub) => owed.includes(sub.clientId));
    ledger.open(entry.brokerId, entry.brokerCounter, key, true);
    if (subs.length > 0) await this.#sessions!.outgoingEnqueueCombi(subs, { cmd: 'publish', qos: 1, dup: false, ...entry });
    ledger.routed(entry.brokerId, entry.brokerCounter);
    return subs.length > 0;
  }

  async #publishAgain(aedes: Aedes, { key, entry }: Leftover): Promise<boolean> {
    const ledger = this.#ledger!;
    ledger.open(entry.brokerId, entry.brokerCounter, key);
    const superseded = entry.retain && (await this.#retainedIsNewer(aedes, entry));
    if (!superseded) {
      const packet = { cmd: 'publish' as const, qos: 1 as const, dup: false, ...entry };
      await new Promise<void>((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
    }
    ledger.routed(entry.brokerId, entry.brokerCounter);
    return !superseded;
  }

  /** A retained message stored after `entry` (same run, higher counter) must not be overwritten by it. */
  async #retainedIsNewer(aedes: Aedes, entry: { topic: string; brokerId: string; brokerCounter: number }): Promise<boolean> {
    const { persistence } = aedes as unknown as { persistence: { createRetainedStream(topic: string): AsyncIterable<{ brokerId?: string; brokerCounter?: number }> } };
    const stream = persistence.createRetainedStream(entry.topic);
    for await (const stored of stream) {
      if (stored.brokerId === entry.brokerId && (stored.brokerCounter ?? 0) > entry.brokerCounter) return true;
    }
    return false;
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: (Error & { returnCode: number }) | null, success: boolean | null) => void,
  ): void {
    const users = this.#opts.config.users;
    const topics = new Topics(this.#opts.topicPrefix);
    if (users.length === 0) {
      this.#grants.set(client, OPEN);
      return done(null, true);
    }
    const user = users.find((u) => u.username === username);
    // Compare even for unknown users so timing does not tell which names exist.
    const ok = secretEquals(password ?? '', user?.password ?? 'no such user') && user !== undefined;
    if (!ok || !user) {
      this.#log.warn({ clientId: client.id, username }, 'login refused');
      return done(Object.assign(new Error('bad username or password'), { returnCode: 4 }), false);
    }
    const principal = { username: user.username, role: user.role, deviceId: user.deviceId };
    if (user.role === 'device' && client.id !== (user.deviceId ?? user.username)) {
      this.#log.warn({ clientId: client.id, username }, 'device must connect with its device id as client id');
      return done(Object.assign(new Error('client id must be the device id'), { returnCode: 2 }), false);
    }
    this.#grants.set(client, grantsFor(principal, topics));
    done(null, true);
  }
}

function readTlsFile(path: string, key: 'certFile' | 'keyFile'): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`broker.tls.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
