// The three things measured, each started as the user would start it, in its own data folder:
//   default     `bellhop start`: embedded broker, server, Slack sink, bell agent, one process
//   serverOnly  `bellhop broker` + `bellhop server`, no subscriber of events
//   baseline    `bellhop broker` + bench/baseline.ts (node:http + mqtt.js, 202 after PUBACK)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { CLI, startProc, withDescendants, type Proc } from './processes.js';

export type TargetKey = 'default' | 'serverOnly' | 'baseline';

export interface Target {
  key: TargetKey;
  label: string;
  /** How it runs, printed next to its figures. */
  config: string;
  url: string;
  mqttUrl: string;
  procs: Proc[];
  /** Every process of the target, now. */
  pids(): number[];
  /** Called before a closed-loop phase and before an open-loop one. */
  prepare(phase: 'closed' | 'open'): Promise<void>;
  /** For the default deployment: where its bell's `rang` reports can be read. */
  observe?: { mqttUrl: string; topicPrefix: string; pulseMs: number };
  stop(): Promise<void>;
}

export const TOKEN = 'bench-token-0123456789abcdef';
export const TOPIC_PREFIX = 'bellhop';
export const DEVICE_ID = 'bench-bell';
/** Passed to every bellhop process: BENCH_DATA_SYNC -> BELLHOP_DATA_SYNC, BENCH_LOG_LEVEL -> BELLHOP_LOG_LEVEL (unset: the defaults). */
export const PASSED_ENV: Record<string, string> = Object.fromEntries(
  [
    ['BENCH_DATA_SYNC', 'BELLHOP_DATA_SYNC'],
    ['BENCH_LOG_LEVEL', 'BELLHOP_LOG_LEVEL'],
  ].flatMap(([from, to]) => (process.env[from!] ? [[to!, process.env[from!]!]] : [])),
);
/** The bell's own limits opened up so that at 200 events/s each event strikes (see mute below). */
const BELL = { pulseMs: 1, gapMs: 0, minGapMs: 0, maxStrikesPerMinute: 60_000 };

export interface DefaultOptions {
  dir: string;
  /** The fake Slack's Web API and bot token; undefined = the sink's dry run. */
  slack: { apiUrl: string; botToken: string } | undefined;
  gpioDriver: 'sim' | 'mock';
}

export async function startDefault(o: DefaultOptions): Promise<Target> {
  const dataDir = join(o.dir, 'default-data');
  mkdirSync(dataDir, { recursive: true });
  const configFile = join(o.dir, 'default.yaml');
  writeFileSync(configFile, `device:\n  bell: { ${Object.entries(BELL).map(([k, v]) => `${k}: ${v}`).join(', ')} }\n`);
  const slackEnv: Record<string, string> = o.slack ? { SLACK_BOT_TOKEN: o.slack.botToken, SLACK_API_URL: o.slack.apiUrl, BELLHOP_SLACK_CHANNEL: '#bellhop' } : {};
  const proc = await startProc({
    name: 'default-start',
    script: CLI,
    args: ['start'],
    logDir: o.dir,
    ready: /Ring the bell:/,
    env: {
      BELLHOP_CONFIG: configFile,
      BELLHOP_DATA_DIR: dataDir,
      BELLHOP_HTTP_PORT: '0',
      BELLHOP_MQTT_PORT: '0',
      BELLHOP_API_TOKEN: TOKEN,
      BELLHOP_GPIO_DRIVER: o.gpioDriver,
      BELLHOP_DEVICE_ID: DEVICE_ID,
      ...slackEnv,
      ...PASSED_ENV,
    },
  });
  try {
    const out = proc.stdout();
    const mqttUrl = /broker\s+(mqtts?:\/\/\S+)/.exec(out)?.[1];
    const url = /server\s+(http:\/\/\S+)/.exec(out)?.[1];
    if (!mqttUrl || !url) throw new Error(`could not read the broker and server URLs from the banner: ${out}`);
    if (o.slack) await proc.waitFor(/Slack took the bot token/, 20_000);
    const bell = await BellControl.connect(mqttUrl);
    return {
      key: 'default',
      label: 'bellhop start',
      config: `one process: embedded broker (default persistence), server, Slack sink (${o.slack ? 'posting to the fake Slack' : 'dry run'}), bell agent (${o.gpioDriver} driver); log level ${PASSED_ENV.BELLHOP_LOG_LEVEL ?? 'info'}, JSON to a file`,
      url,
      mqttUrl,
      procs: [proc],
      pids: () => withDescendants(proc.pid),
      // Closed loop: the bell is muted (a retained mute, as `bellhop` users set one), so the
      // agent still receives, decides and reports every event but does not queue thousands of
      // 1 ms strikes behind each other; what the default rate cap (20/min) would also do.
      prepare: (phase) => bell.mute(phase === 'closed'),
      observe: { mqttUrl, topicPrefix: TOPIC_PREFIX, pulseMs: BELL.pulseMs },
      stop: async () => {
        await bell.end();
        await proc.stop();
      },
    };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

/** Mutes and unmutes the bench's bell over MQTT and waits for the agent's retained state to say so. */
class BellControl {
  #client: mqtt.MqttClient;
  #muted: boolean | undefined;
  #waiters = new Set<() => void>();

  private constructor(client: mqtt.MqttClient) {
    this.#client = client;
    client.on('message', (_topic, payload) => {
      try {
        const state = JSON.parse(payload.toString()) as { muted?: unknown };
        if (typeof state.muted === 'boolean') this.#muted = state.muted;
      } catch {
        return;
      }
      for (const w of this.#waiters) w();
    });
  }

  static async connect(mqttUrl: string): Promise<BellControl> {
    const client = mqtt.connect(mqttUrl, { protocolVersion: 4, clean: true, clientId: `bench-control-${process.pid}`, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => client.once('connect', () => resolve()).once('error', reject));
    const control = new BellControl(client);
    await client.subscribeAsync(`${TOPIC_PREFIX}/devices/${DEVICE_ID}/state`, { qos: 1 });
    // The agent publishes its state once its subscriptions are acknowledged: then it is listening.
    await control.#until(() => control.#muted !== undefined, 'the bell agent to publish its state (subscribed)');
    return control;
  }

  async mute(on: boolean): Promise<void> {
    if (this.#muted === on) return;
    const payload = JSON.stringify({ until: on ? '2999-01-01T00:00:00.000Z' : null, by: 'bench' });
    await this.#client.publishAsync(`${TOPIC_PREFIX}/devices/${DEVICE_ID}/mute`, payload, { qos: 1, retain: true });
    await this.#until(() => this.#muted === on, `the bell to be ${on ? 'muted' : 'unmuted'}`);
  }

  async end(): Promise<void> {
    await this.#client.endAsync();
  }

  #until(ok: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ok()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

/** `bellhop broker` on its own: what the server-only target and the baseline publish to. */
async function startBroker(dir: string, name: string): Promise<Proc> {
  const dataDir = join(dir, `${name}-data`);
  mkdirSync(dataDir, { recursive: true });
  return startProc({ name, script: CLI, args: ['broker'], logDir: dir, ready: /listening on (mqtts?:\/\/\S+)/, env: { BELLHOP_MQTT_PORT: '0', BELLHOP_DATA_DIR: dataDir, ...PASSED_ENV } });
}

export async function startServerOnly(dir: string): Promise<Target> {
  const broker = await startBroker(dir, 'server-only-broker');
  const mqttUrl = broker.match[1]!;
  try {
    const dataDir = join(dir, 'server-only-data');
    mkdirSync(dataDir, { recursive: true });
    const server = await startProc({
      name: 'server-only-server',
      script: CLI,
      args: ['server'],
      logDir: dir,
      ready: /listening on (http:\/\/\S+),/,
      env: { BELLHOP_MQTT_URL: mqttUrl, BELLHOP_HTTP_PORT: '0', BELLHOP_DATA_DIR: dataDir, BELLHOP_API_TOKEN: TOKEN, ...PASSED_ENV },
    });
    return twoProcesses('serverOnly', 'bellhop server', `\`bellhop broker\` (default persistence) + \`bellhop server\`, no subscriber of events; log level ${PASSED_ENV.BELLHOP_LOG_LEVEL ?? 'info'}`, broker, server, mqttUrl);
  } catch (e) {
    await broker.stop();
    throw e;
  }
}

export async function startBaseline(dir: string): Promise<Target> {
  const broker = await startBroker(dir, 'baseline-broker');
  const mqttUrl = broker.match[1]!;
  try {
    const script = fileURLToPath(new URL('./baseline.js', import.meta.url));
    const baseline = await startProc({ name: 'baseline', script, args: [mqttUrl], logDir: dir, ready: /listening on (http:\/\/\S+)/ });
    return twoProcesses('baseline', 'bare baseline', '`bellhop broker` (default persistence) + node:http and mqtt.js, QoS 1, 202 after the PUBACK, no validation/auth/logs', broker, baseline, mqttUrl);
  } catch (e) {
    await broker.stop();
    throw e;
  }
}

function twoProcesses(key: TargetKey, label: string, config: string, broker: Proc, front: Proc, mqttUrl: string): Target {
  return {
    key,
    label,
    config,
    url: front.match[1]!,
    mqttUrl,
    procs: [broker, front],
    pids: () => [...withDescendants(broker.pid), ...withDescendants(front.pid)],
    prepare: () => Promise.resolve(),
    stop: async () => {
      await front.stop();
      await broker.stop();
    },
  };
}
