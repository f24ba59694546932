// The broker under test as a process of its own, so a test can kill it outright:
// `bellhop broker` (the embedded aedes, from dist/) or Mosquitto, per BELLHOP_TEST_BROKER.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../shared/config/schema.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { MosquittoBroker } from '../helpers/mosquitto.js';

export interface BrokerProcess {
  readonly kind: 'aedes' | 'mosquitto';
  readonly url: string;
  start(): Promise<void>;
  /** SIGTERM: a clean stop. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, with no chance to save anything. */
  kill(): Promise<void>;
  /** Everything the broker has written to its data folder, as text (payloads are stored raw). */
  onDisk(): string;
  describe(): string;
}

function readAll(dir: string, names: (name: string) => boolean): string {
  let files: string[];
  try {
    files = readdirSync(dir).filter(names);
  } catch {
    return '';
  }
  return files.map((f) => {
    try {
      return readFileSync(join(dir, f), 'latin1');
    } catch {
      return ''; // renamed or compacted away while we listed
    }
  }).join('\n');
}

/** `logLevel`: the embedded broker's (debug shows aedes' client errors in describe()). */
export function brokerProcess(config: Config, opts: { logLevel?: string } = {}): BrokerProcess {
  // Not a silent aedes stand-in: vitest.config.ts keeps these tests out of the RabbitMQ run.
  if (process.env.BELLHOP_TEST_BROKER === 'rabbitmq') throw new Error('brokerProcess has no RabbitMQ: its test node is shared (see NOT_ON_RABBITMQ in vitest.config.ts)');
  if (process.env.BELLHOP_TEST_BROKER === 'mosquitto') {
    const broker = new MosquittoBroker(config);
    return {
      kind: 'mosquitto',
      get url() {
        return broker.url;
      },
      start: () => broker.start(),
      stop: () => broker.stop(),
      kill: () => broker.kill(),
      // Mosquitto saves a snapshot to mosquitto.db.new and renames it: this file is always whole.
      onDisk: () => readAll(join(config.dataDir, 'mosquitto', 'data'), (f) => f === 'mosquitto.db'),
      describe: () => broker.log,
    };
  }
  return new EmbeddedBrokerProcess(config, opts.logLevel);
}

class EmbeddedBrokerProcess implements BrokerProcess {
  readonly kind = 'aedes';
  #config: Config;
  #port: number;
  #cli: CliProcess | undefined;
  #all: CliProcess[] = [];

  #logLevel: string;

  constructor(config: Config, logLevel = process.env.BROKER_LOG ?? 'warn') {
    this.#config = config;
    this.#port = config.broker.port;
    this.#logLevel = logLevel;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    // Port 0 the first time; the same port (and data folder) on every restart.
    const cli = runCli(['broker'], {
      BELLHOP_MQTT_PORT: String(this.#port),
      BELLHOP_DATA_DIR: this.#config.dataDir,
      // BROKER_LOG=debug shows aedes' client errors in describe() when a test fails.
      BELLHOP_LOG_LEVEL: this.#logLevel,
    });
    this.#cli = cli;
    this.#all.push(cli);
    const [, port] = await cli.waitForOutput(/bellhop broker listening on mqtt:\/\/[^:]+:(\d+)/);
    this.#port = Number(port);
  }

  onDisk(): string {
    // LevelDB's write-ahead log (and tables, once compacted; ours stay far below that size).
    return readAll(join(this.#config.dataDir, 'broker'), (f) => f.endsWith('.log') || f.endsWith('.ldb'));
  }

  describe(): string {
    return this.#all.map((c) => `pid ${c.child.pid} port ${this.#port}: ${c.stdout()} ${c.stderr()}`).join(' | ');
  }

  async stop(): Promise<void> {
    await this.#signal('SIGTERM');
  }

  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const cli = this.#cli;
    this.#cli = undefined;
    if (!cli || cli.child.exitCode !== null || cli.child.signalCode !== null) return;
    cli.child.kill(signal);
    await cli.exited;
  }
}
