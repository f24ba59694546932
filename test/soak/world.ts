// A soak world: bellhop's parts each as a process of their own, as in production (the
// broker, the HTTP server, the Slack sink pointed at the fake Slack, a bell agent with
// the simulated GPIO, which prints every strike), with the fake Slack and a witness MQTT
// session in the soak process. Every part can be killed (SIGKILL) and started again on
// the same port and data folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parseEnvelope, EnvelopeError } from '../../shared/envelope.js';
import { DeliveryReport, parse, parseRang, reportedEventIds, type DeviceState, type RangReport } from '../../shared/messages.js';
import { Topics } from '../../shared/topics.js';
import { BOT_TOKEN, FakeSlack, type FakeSlackOptions } from '../fake-slack/server.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { TEST_TOKEN, tempDir, testConfig, waitFor } from '../helpers/world.js';
import { brokerProcess } from '../reliability/broker-process.js';

export const DEVICE_ID = 'office-bell';
const PREFIX = 'bellhop';

// Children still running when the soak process exits would outlive it.
const live = new Set<CliProcess>();
process.once('exit', () => {
  for (const cli of live) cli.child.kill('SIGKILL');
});

/** One bellhop part as its own process (`node dist/cli/main.js <command>`). */
export class PartProcess {
  readonly runs: CliProcess[] = [];
  #cli: CliProcess | undefined;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: () => Record<string, string>,
    private readonly ready: RegExp,
  ) {}

  get running(): boolean {
    return this.#cli !== undefined;
  }

  async start(): Promise<RegExpMatchArray> {
    const cli = runCli(this.args, this.env());
    this.#cli = cli;
    this.runs.push(cli);
    live.add(cli);
    void cli.exited.then(() => live.delete(cli));
    return cli.waitForOutput(this.ready, 20_000);
  }

  /** SIGKILL: a crash; SIGTERM: a clean stop. Resolves once the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const cli = this.#cli;
    this.#cli = undefined;
    if (!cli || cli.child.exitCode !== null || cli.child.signalCode !== null) return;
    cli.child.kill(signal);
    await cli.exited;
  }

  /** Everything every run printed on stdout. */
  stdout(): string {
    return this.runs.map((r) => r.stdout()).join('');
  }

  describe(): string {
    return this.runs.map((r, i) => `${this.name} run ${i + 1} (pid ${r.child.pid}, ${r.child.exitCode === null ? 'running' : `exited ${r.child.exitCode}`}): ${r.stderr().slice(-1500)}`).join('\n');
  }

  /** Writes every run's output to <dir>/<name>-<run>.{out,err} (SOAK_LOGS, for a failed run). */
  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    this.runs.forEach((r, i) => {
      writeFileSync(join(dir, `${this.name}-${i + 1}.out`), r.stdout());
      writeFileSync(join(dir, `${this.name}-${i + 1}.err`), r.stderr());
    });
  }
}

/**
 * The embedded broker as its own process, on the port it got the first time and the same
 * data folder on every restart, logging at SOAK_LOG_LEVEL with the other parts (Mosquitto
 * instead with BELLHOP_TEST_BROKER=mosquitto, through the durability tests' helper).
 */
export interface SoakBroker {
  readonly kind: 'aedes' | 'mosquitto' | 'rabbitmq-cluster';
  readonly url: string;
  start(): Promise<void>;
  /** SIGTERM: a clean stop. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  describe(): string;
  save?(dir: string): void;
}

function embeddedBroker(dataDir: string, level: string): SoakBroker {
  let port = 0;
  const part = new PartProcess('broker', ['broker'], () => ({ BELLHOP_MQTT_PORT: String(port), BELLHOP_DATA_DIR: dataDir, BELLHOP_LOG_LEVEL: level }), /bellhop broker listening on mqtt:\/\/[^:]+:(\d+)/);
  return {
    kind: 'aedes',
    get url() {
      return `mqtt://127.0.0.1:${port}`;
    },
    async start() {
      const [, bound] = await part.start();
      port = Number(bound);
    },
    stop: () => part.kill('SIGTERM'),
    kill: () => part.kill('SIGKILL'),
    describe: () => part.describe(),
    save: (dir) => part.save(dir),
  };
}

/**
 * A persistent MQTT session that sees what the broker hands out: every event, every
 * `rang` report and the bells' state. It is how the soak tells "reached the broker"
 * from "reached Slack", and finds events that were refused yet published.
 */
export class Witness {
  /** Event id -> how many times the broker delivered it here (redeliveries count). */
  readonly events = new Map<string, number>();
  readonly rangs: RangReport[] = [];
  readonly states: DeviceState[] = [];
  readonly delivered: DeliveryReport[] = [];
  #client: MqttClient | undefined;
  #topics = new Topics(PREFIX);

  async connect(url: string): Promise<void> {
    // Several node URLs (a cluster): mqtt.js tries the next one on each reconnect.
    const nodes = url.split(',').map((u) => new URL(u));
    const servers = nodes.map((u) => ({ host: u.hostname, port: Number(u.port), protocol: 'mqtt' as const }));
    const client = mqtt.connect(nodes[0]!.href, { clientId: `soak-witness-${process.pid}`, clean: false, protocolVersion: 4, reconnectPeriod: 100, connectTimeout: 5000, ...(servers.length > 1 ? { servers } : {}) });
    this.#client = client;
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(
      { [this.#topics.events()]: { qos: 1 }, [this.#topics.anyDevice('rang')]: { qos: 1 }, [this.#topics.anyDevice('state')]: { qos: 1 }, [this.#topics.slackDelivered()]: { qos: 1 } },
    );
  }

  async close(): Promise<void> {
    await this.#client?.endAsync(true).catch(() => undefined);
  }

  /** The id's events seen at least once. */
  saw(id: string): boolean {
    return this.events.has(id);
  }

  #onMessage(topic: string, payload: Buffer): void {
    const route = this.#topics.parse(topic);
    if (route?.kind === 'event') {
      try {
        const id = parseEnvelope(payload).id;
        this.events.set(id, (this.events.get(id) ?? 0) + 1);
      } catch (err) {
        if (!(err instanceof EnvelopeError)) throw err;
      }
    } else if (route?.kind === 'device' && route.channel === 'rang') {
      const rang = parseRang(payload);
      if (rang) this.rangs.push(rang);
    } else if (route?.kind === 'slack-delivered') {
      const report = parse(DeliveryReport, payload);
      // A digest's report speaks for many events: the witness keeps one per event.
      if (report) for (const eventId of reportedEventIds(report)) this.delivered.push({ ...report, eventId, alsoEventIds: undefined });
    } else if (route?.kind === 'device' && route.channel === 'state' && payload.length > 0) {
      this.states.push(JSON.parse(payload.toString()) as DeviceState);
    }
  }
}

/** SOAK_PUBLISH_QOS=2 runs the soak with server.publishQos 2 (the default is 1). */
function publishQos(): { publishQos?: number } {
  const qos = process.env.SOAK_PUBLISH_QOS;
  return qos ? { publishQos: Number(qos) } : {};
}

export interface SoakWorldOptions {
  /** The `slack` section (routes, digests, limiter...); the token and API URL are added. */
  slack?: Record<string, unknown>;
  /** The `device` section of the bell agent. */
  device?: Record<string, unknown>;
  server?: Record<string, unknown>;
  fakeSlack?: FakeSlackOptions;
  /** Start a bell agent (default true). */
  agent?: boolean;
  /** A broker the run brings (started already), instead of the embedded one or Mosquitto. */
  broker?: SoakBroker;
  /** mqtt.url per part, when they are to reach the broker differently (a cluster's nodes in another order). */
  urls?: { server?: string; slack?: string; agent?: string };
}

export interface SoakWorld {
  fake: FakeSlack;
  broker: SoakBroker;
  server: PartProcess;
  sink: PartProcess;
  agent: PartProcess;
  witness: Witness;
  /** The server's base URL (fixed port across restarts). */
  serverUrl: string;
  /** Starts (or restarts) the agent and resolves once it is subscribed. */
  startAgent(): Promise<void>;
  /** Strikes the simulated bell printed, over every run of the agent. */
  strikes(): number;
  describe(): string;
  close(): Promise<void>;
}

export async function soakWorld(opts: SoakWorldOptions = {}): Promise<SoakWorld> {
  const root = tempDir('bellhop-soak-');
  const dir = (name: string) => {
    const path = join(root.path, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const fake = new FakeSlack(opts.fakeSlack);
  await fake.start();

  const level = process.env.SOAK_LOG_LEVEL ?? 'warn';
  const broker: SoakBroker = opts.broker ?? (process.env.BELLHOP_TEST_BROKER === 'mosquitto' ? brokerProcess(testConfig({}, dir('broker'))) : embeddedBroker(dir('broker'), level));
  if (!opts.broker) await broker.start();

  // One config file for the client parts; each gets its own data folder and port by env.
  const configFile = join(root.path, 'bellhop.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      mqtt: { reconnectMs: 200 },
      server: { tokens: [{ name: 'soak', token: TEST_TOKEN }], ...publishQos(), ...opts.server },
      slack: opts.slack ?? {},
      device: { id: DEVICE_ID, reconnectMaxMs: 1000, ...opts.device },
    }),
  );
  const common = (part?: 'server' | 'slack' | 'agent') => ({ BELLHOP_CONFIG: configFile, BELLHOP_MQTT_URL: (part && opts.urls?.[part]) ?? broker.url, BELLHOP_LOG_LEVEL: level });
  let httpPort = 0;
  const server = new PartProcess('server', ['server'], () => ({ ...common('server'), BELLHOP_DATA_DIR: dir('server'), BELLHOP_HTTP_PORT: String(httpPort) }), /listening on (http:\/\/[^,\s]+)/);
  const sink = new PartProcess(
    'slack',
    ['slack'],
    () => ({ ...common('slack'), BELLHOP_DATA_DIR: dir('slack'), SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: fake.apiUrl }),
    /bellhop slack subscribed/,
  );
  const agent = new PartProcess('agent', ['agent'], () => ({ ...common('agent'), BELLHOP_DATA_DIR: dir('agent'), BELLHOP_GPIO_DRIVER: 'sim' }), /bellhop agent .* subscribed/);

  const witness = new Witness();
  await witness.connect(broker.url);

  const [, serverUrl] = await server.start();
  httpPort = Number(new URL(serverUrl!).port);
  await sink.start();

  const startAgent = async () => {
    const since = Date.now();
    await agent.start();
    // The agent publishes its state once its subscriptions are made: from then on the
    // broker queues events for it, even while it is offline.
    await waitFor(() => witness.states.some((s) => s.deviceId === DEVICE_ID && Date.parse(s.at) >= since - 1000), { timeoutMs: 15_000, what: 'the bell agent to subscribe' });
  };
  if (opts.agent ?? true) await startAgent();

  const world: SoakWorld = {
    fake,
    broker,
    server,
    sink,
    agent,
    witness,
    serverUrl: serverUrl!,
    startAgent,
    strikes: () => (agent.stdout().match(/\*ding\*/g) ?? []).length,
    describe: () => [server.describe(), sink.describe(), agent.describe(), `broker: ${broker.describe().slice(-1500)}`].join('\n'),
    async close() {
      for (const part of [agent, sink, server]) await part.kill('SIGTERM').catch(() => undefined);
      await witness.close();
      await broker.stop().catch(() => undefined);
      await fake.stop();
      // SOAK_LOGS=<dir> (with SOAK_LOG_LEVEL=debug to follow an event) keeps what every part
      // logged, what Slack was sent, and the data folders (the broker's store, the sink's outbox).
      const logs = process.env.SOAK_LOGS;
      if (!logs) return root.remove();
      const into = join(logs, String(process.pid));
      for (const part of [agent, sink, server]) part.save(into);
      broker.save?.(into);
      writeFileSync(join(into, 'slack-messages.json'), JSON.stringify(fake.messages, null, 1));
      writeFileSync(join(into, 'data-folder'), `${root.path}\n`);
    },
  };
  return world;
}
