// A real Mosquitto per test world: a free port, a folder of its own, persistence on,
// and the password and ACL files `bellhop mosquitto-config` generates from the same
// config the embedded broker would use. The second vitest project (BELLHOP_TEST_BROKER=
// mosquitto) runs the broker-facing tests against it through world.ts's startBroker.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { delimiter, join } from 'node:path';
import type { Config } from '../../shared/config/schema.js';
import type { BrokerPart } from '../../broker/broker.js';
import { mosquittoFiles, writeMosquittoFiles, type MosquittoAutosave } from '../../broker/mosquitto-files.js';

/** Path of the mosquitto binary, or undefined when it is not installed. */
export function mosquittoBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, 'mosquitto');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export const MOSQUITTO_MISSING = 'mosquitto is not installed (apt-get install mosquitto)';

export interface MosquittoOptions {
  /** Where the generated files and mosquitto.db live (default <dataDir>/mosquitto), kept across restarts. */
  dir?: string;
  autosave?: MosquittoAutosave;
  usernameAsClientId?: boolean;
}

// Children still running when the test process exits would outlive it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class MosquittoBroker {
  readonly name = 'broker';
  #config: Config;
  #dir: string;
  #autosave: MosquittoAutosave | undefined;
  #usernameAsClientId: boolean;
  #port: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #log = '';

  constructor(config: Config, opts: MosquittoOptions = {}) {
    this.#config = config;
    this.#dir = opts.dir ?? join(config.dataDir, 'mosquitto');
    this.#autosave = opts.autosave;
    this.#usernameAsClientId = opts.usernameAsClientId ?? false;
    this.#port = config.broker.port;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `${this.#config.broker.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.#port}`;
  }

  /** What Mosquitto printed (its log goes to stderr), for failure messages. */
  get log(): string {
    return this.#log;
  }

  /** The pid of the running broker, for tests that signal it. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    const binary = mosquittoBinary();
    if (!binary) throw new Error(MOSQUITTO_MISSING);
    // Mosquitto cannot bind port 0: pick a free port, and pick again if another
    // process took it between our check and Mosquitto's bind.
    const fixed = this.#port !== 0;
    for (let attempt = 0; ; attempt++) {
      if (!fixed) this.#port = await freePort();
      try {
        await this.#spawn(binary);
        return;
      } catch (err) {
        if (fixed || attempt >= 4 || !/Address already in use/i.test(this.#log)) throw err;
      }
    }
  }

  async #spawn(binary: string): Promise<void> {
    const files = mosquittoFiles({
      broker: { ...this.#config.broker, port: this.#port, host: '127.0.0.1' },
      topicPrefix: this.#config.mqtt.topicPrefix,
      dir: this.#dir,
      ...(this.#autosave ? { autosave: this.#autosave } : {}),
      usernameAsClientId: this.#usernameAsClientId,
      // As root Mosquitto would switch to the mosquitto user, who cannot read our temp folders.
      ...(process.getuid?.() === 0 ? { user: 'root' } : {}),
    });
    const { conf } = writeMosquittoFiles(this.#dir, files);
    this.#log = '';
    const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    live.add(child);
    const exited = once(child, 'exit').then(() => {
      live.delete(child);
    });
    this.#exited = exited;
    child.stderr!.on('data', (d: Buffer) => (this.#log += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      const onData = () => {
        if (/mosquitto version \S+ running/.test(this.#log)) {
          child.stderr!.off('data', onData);
          resolve();
        }
      };
      child.stderr!.on('data', onData);
      void exited.then(() => reject(new Error(`mosquitto exited during start:\n${this.#log}`)));
      timer = setTimeout(() => reject(new Error(`mosquitto did not start within 5 s:\n${this.#log}`)), 5000);
    }).finally(() => clearTimeout(timer));
    try {
      await ready;
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      this.#child = undefined;
      throw err;
    }
  }

  /** A clean stop: Mosquitto saves its database on SIGTERM. */
  async stop(): Promise<void> {
    await this.#signal('SIGTERM');
  }

  /** A crash: nothing is saved beyond what autosave already wrote. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.#exited;
  }
}

/** Starts a Mosquitto for `config` (its broker.users, topic prefix, data folder and TLS). */
export async function startMosquitto(config: Config, opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const broker = new MosquittoBroker(config, opts);
  await broker.start();
  return broker;
}

/**
 * The same broker under BrokerPart's type, for world.ts's startBroker. BrokerPart's public
 * surface is name, url, port, start and stop (and local(), the in-process shortcut only the
 * embedded broker has, which no test through startBroker uses); the `satisfies` keeps
 * MosquittoBroker honest about the rest (its #private fields make a plain cast necessary).
 */
export function asBrokerPart(broker: MosquittoBroker): BrokerPart {
  const surface = broker satisfies { [K in Exclude<keyof BrokerPart, 'local'>]: BrokerPart[K] };
  return surface as unknown as BrokerPart;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
