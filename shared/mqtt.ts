// How every client part connects: one place for protocol version, TLS CA,
// reconnect back-off and credentials, so parts never care where the broker runs.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Config, MqttCredentialsConfig } from './config/schema.js';
import type { Logger } from './logger.js';
import { connectableUrl } from './url.js';

export type { MqttClient };

export interface MqttSettings {
  url: string;
  protocolVersion: 4 | 5;
  reconnectMs: number;
  caFile?: string | undefined;
  credentials: MqttCredentialsConfig;
}

/** The URL parts connect to: mqtt.url, or the embedded broker. */
export function resolveMqttUrl(config: Config): string {
  if (config.mqtt.url) return config.mqtt.url;
  return connectableUrl(config.broker.tls ? 'mqtts' : 'mqtt', config.broker.host, config.broker.port);
}

export function mqttSettings(config: Config, credentials: MqttCredentialsConfig): MqttSettings {
  return {
    url: resolveMqttUrl(config),
    protocolVersion: config.mqtt.protocolVersion,
    reconnectMs: config.mqtt.reconnectMs,
    caFile: config.mqtt.caFile,
    credentials,
  };
}

export function connectMqtt(settings: MqttSettings, extra: IClientOptions = {}): MqttClient {
  const options: IClientOptions = {
    protocolVersion: settings.protocolVersion,
    reconnectPeriod: settings.reconnectMs,
    connectTimeout: 10_000,
    keepalive: 30,
    // mqtt.js calls its debug logger on every packet; a no-op saves that on the hot path.
    log: () => undefined,
    ...extra,
  };
  if (settings.credentials.username !== undefined) options.username = settings.credentials.username;
  if (settings.credentials.password !== undefined) options.password = settings.credentials.password;
  if (settings.caFile) options.ca = readFileSync(settings.caFile);
  // A cluster: several node URLs, comma-separated; mqtt.js moves to the next on each reconnect.
  const urls = brokerUrls(settings.url);
  if (urls.length > 1) options.servers = urls.map((u) => ({ protocol: u.protocol.slice(0, -1) as 'mqtt', host: u.hostname, port: Number(u.port) || defaultPort(u.protocol) }));
  const client = mqtt.connect(urls[0]!.href, options);
  // Small MQTT packets must not wait for Nagle's algorithm (~40 ms with delayed ACKs).
  client.on('connect', () => {
    const stream = client.stream as { setNoDelay?: (on: boolean) => void };
    stream.setNoDelay?.(true);
  });
  return client;
}

/** The node URLs of mqtt.url: one, or several comma-separated (the nodes of a cluster). */
export function brokerUrls(url: string): URL[] {
  return url.split(',').map((u) => new URL(u.trim()));
}

function defaultPort(protocol: string): number {
  return protocol === 'mqtts:' || protocol === 'tls:' ? 8883 : protocol === 'wss:' ? 443 : protocol === 'ws:' ? 80 : 1883;
}

/** CONNACK refusals that retrying will not fix: bad credentials, not authorized, banned
 *  (MQTT 3.1.1 return codes 4 and 5; MQTT 5 reason codes 0x86, 0x87, 0x8A, 0x8C). */
const LOGIN_REFUSALS = new Set([4, 5, 0x86, 0x87, 0x8a, 0x8c]);

function isLoginRefused(err: Error & { code?: unknown }): boolean {
  return typeof err.code === 'number' && LOGIN_REFUSALS.has(err.code);
}

/**
 * Calls `refused` once when the broker refuses this client's login, at the first connect or
 * at any reconnect, with a message naming the keys to fix. mqtt.js would otherwise retry the
 * same wrong password forever while the part looks alive.
 */
function onLoginRefused(client: MqttClient, keys: string, refused: (err: Error) => void): void {
  let said = false;
  client.on('error', (err: Error & { code?: unknown }) => {
    if (said || !isLoginRefused(err)) return;
    said = true;
    refused(new Error(`the MQTT broker refused the login (${err.message}): check ${keys}`, { cause: err }));
  });
}

/**
 * Calls `away` once when the client has had no broker connection for `giveUpAfterMs` (from
 * the start, or since the last connection dropped), so a part does not look alive for days
 * while it reaches nothing. 0 turns it off. A client being ended on purpose does not count.
 */
function onBrokerAway(client: MqttClient, giveUpAfterMs: number, url: string, away: (err: Error) => void): void {
  if (giveUpAfterMs <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (timer) return;
    timer = setTimeout(() => {
      away(new Error(`no connection to the MQTT broker at ${url} for ${Math.round(giveUpAfterMs / 1000)} s: check that it runs and that mqtt.url points at it (mqtt.giveUpAfterMs sets how long to wait)`));
    }, giveUpAfterMs);
    timer.unref();
  };
  const disarm = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  arm();
  client.on('connect', disarm);
  client.on('close', () => {
    if (!client.connected && !client.disconnecting) arm();
  });
  client.on('end', disarm);
}

/**
 * Heal or fail loudly: a part's client retries a broker that is away, but stops the part
 * (through `fatal`) on a refused login, or once the broker has been away for
 * mqtt.giveUpAfterMs. `loginKeys` names the config keys that hold this part's login.
 */
export function failLoudly(client: MqttClient, config: Config, loginKeys: string, fatal: (err: Error) => void): void {
  onLoginRefused(client, loginKeys, fatal);
  onBrokerAway(client, config.mqtt.giveUpAfterMs, resolveMqttUrl(config), fatal);
}

/** Resolves at the first connect; rejects on a refusal (bad credentials) or after timeoutMs. */
export function waitForConnect(client: MqttClient, timeoutMs: number): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no connection to the MQTT broker within ${timeoutMs} ms`)), timeoutMs);
    const onConnect = () => done();
    const onError = (err: Error & { code?: number | string }) => {
      // Refusals (bad credentials, not authorized) will not fix themselves by retrying.
      if (typeof err.code === 'number') done(err);
    };
    function done(err?: Error) {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
      if (err) reject(err);
      else resolve();
    }
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}


export interface SubscribeChecks {
  log: Logger;
  /** Logged at error with the refused filters; says which role the part needs. */
  refusedMessage: string;
  /** Logged with the error when the subscribe itself fails (default 'subscribe failed' at error). */
  failedMessage?: string;
  failedLevel?: 'error' | 'warn';
  /** Called after a failed subscribe is logged. */
  onFailure?: () => void;
}

/** Subscribes, logs a failure or any filter the broker refused (SUBACK code 128, an ACL
 *  denial), and calls `subscribed` once the SUBACK came back (refused filters included: the
 *  rest still work). Every part subscribes through here. */
export function subscribeChecked(
  client: MqttClient,
  filters: Record<string, { qos: 0 | 1 | 2 }>,
  checks: SubscribeChecks,
  subscribed: (refused: string[]) => void = () => undefined,
): void {
  client.subscribe(filters, (err, granted) => {
    if (err) {
      checks.log[checks.failedLevel ?? 'error']({ err: err.message }, checks.failedMessage ?? 'subscribe failed');
      return void checks.onFailure?.();
    }
    const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) checks.log.error({ refused }, checks.refusedMessage);
    subscribed(refused);
  });
}
