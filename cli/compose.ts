// Builds the four parts from the config. `bellhop start` is only "several of these in one
// process". Each part's modules are imported when it is built, so `bellhop agent` on a Pi
// loads neither fastify nor aedes nor the Slack clients (a third of the agent's memory).
import { join } from 'node:path';
import type { Config } from '../shared/config/schema.js';
import { ConfigError } from '../shared/config/load.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from '../shared/metrics.js';
import type { BrokerPart } from '../broker/broker.js';
import type { ServerPart } from '../server/server.js';
import type { AgentPart } from '../device/agent.js';
import type { GpioDriver } from '../device/gpio/driver.js';
import type { SlackSink } from '../slack/sink.js';
import type { SocketApp } from '../slack/socket/socket-app.js';
import type { SlackApi } from '../slack/api.js';
import type { SlackHealth } from '../shared/messages.js';
import type { LocalBroker } from '../shared/local-broker.js';

export async function buildBroker(config: Config, logger: Logger): Promise<BrokerPart> {
  const { BrokerPart } = await import('../broker/broker.js');
  return new BrokerPart({ config: config.broker, topicPrefix: config.mqtt.topicPrefix, dataDir: config.dataDir, dataSync: config.dataSync, logger });
}

/** `metrics`: a registry shared with the Slack part of the same process (`bellhop start`), so /metrics shows its counters too. */
export async function buildServer(
  config: Config,
  logger: Logger,
  metrics?: Metrics,
  localBroker?: LocalBroker,
): Promise<{ server: ServerPart; token: string; tokenFile: string | undefined }> {
  const [{ ServerPart }, { resolveApiTokens, TOKEN_FILE }] = await Promise.all([import('../server/server.js'), import('../server/api-token.js')]);
  const { tokens, generated } = resolveApiTokens(config.server.tokens, config.dataDir);
  const server = new ServerPart({ config, tokens, logger, ...(metrics ? { metrics } : {}), ...(localBroker ? { localBroker } : {}) });
  return { server, token: tokens[0]!.token, tokenFile: generated ? join(config.dataDir, TOKEN_FILE) : undefined };
}

export async function buildAgent(
  config: Config,
  logger: Logger,
  print: (line: string) => void,
): Promise<{ agent: AgentPart; driver: GpioDriver }> {
  const [{ AgentPart }, { createGpioDriver }] = await Promise.all([import('../device/agent.js'), import('../device/gpio/select.js')]);
  const driver = await createGpioDriver(config.device.gpio, {
    print,
    warn: (message) => logger.warn({ part: 'agent' }, message),
    info: (message) => logger.info({ part: 'agent' }, message),
  });
  return { agent: new AgentPart({ config, driver, logger }), driver };
}

/** One registry for the server and the Slack sink of one process, when /metrics is on. */
export async function sharedMetrics(config: Config): Promise<Metrics | undefined> {
  if (!config.server.metrics) return undefined;
  const { Metrics } = await import('../shared/metrics.js');
  return new Metrics();
}

/** Where a dry run posts when the config names no channel, so a new user sees something. */
export const DRY_RUN_CHANNEL = '#bellhop';

export interface SlackParts {
  sink: SlackSink;
  socketApp: SocketApp | undefined;
  dryRun: boolean;
}

/** The Slack part: the sink (real with a bot token, a dry run that prints without one) and,
 *  with an app token, the Socket Mode /ding app. */
export async function buildSlack(config: Config, logger: Logger, print: (line: string) => void, metrics?: Metrics): Promise<SlackParts> {
  const [{ createWebClient, WebSlackApi }, { DryRunSlackApi }, { SlackSink }, { SocketApp }] = await Promise.all([
    import('../slack/api.js'),
    import('../slack/dry-run.js'),
    import('../slack/sink.js'),
    import('../slack/socket/socket-app.js'),
  ]);
  const slack = config.slack;
  // Checked here, not at load: only the parts that post care, and `bellhop doctor` on the
  // same config should still run and say so (a Pi's agent config may carry a token too).
  if (slack.botToken && !slack.defaultChannel && slack.routes.length === 0) {
    throw new ConfigError(
      'slack.defaultChannel: with a bot token and no slack.routes nothing would be posted; set slack.defaultChannel (BELLHOP_SLACK_CHANNEL), e.g. "#bellhop", or add slack.routes',
    );
  }
  const webClient = (token: string) => createWebClient({ token, apiUrl: slack.apiUrl, timeoutMs: slack.requestTimeoutMs, logger: logger.child({ part: 'slack-web' }) });
  let sinkConfig = config;
  let api: SlackApi;
  if (slack.botToken) {
    api = new WebSlackApi(webClient(slack.botToken));
  } else {
    api = new DryRunSlackApi(print);
    // A dry run must never take over a real sink's session or its dedup memory.
    sinkConfig = {
      ...config,
      dataDir: join(config.dataDir, 'slack-dry-run'),
      slack: { ...slack, defaultChannel: slack.defaultChannel ?? DRY_RUN_CHANNEL, mqttClientId: `${slack.mqttClientId}-dry-run` },
    };
  }
  const sink = new SlackSink({ config: sinkConfig, api, logger, dryRun: !slack.botToken, ...(metrics ? { metrics } : {}) });
  if (!slack.botToken) {
    sink.on('report', (r) => {
      if (r.status === 'dropped') print(`slack (dry run) would not post event ${r.eventId}: ${r.error ?? 'dropped'}`);
    });
  }
  const socketApp = slack.appToken ? new SocketApp({ config, logger, botClient: slack.botToken ? webClient(slack.botToken) : undefined }) : undefined;
  return { sink, socketApp, dryRun: !slack.botToken };
}

/** /readyz's Slack check: the token refused is the one thing no retry heals; exactly-once degraded is a warning. */
export function slackReadiness(health: SlackHealth): true | string | { warning: string } {
  if (health.state === 'token_refused') return `Slack refused the bot token (${health.reason ?? '?'}): ${health.fix ?? ''}`;
  if (health.exactlyOnce === 'degraded') {
    return {
      warning: `exactly-once is degraded (${health.degradedReason ?? 'history unreadable'}): a post Slack took just before a crash may be posted again after the restart; ${health.degradedFix ?? 'run bellhop doctor'}`,
    };
  }
  return true;
}

/** Lines printed when Slack answers, after the banner: the banner only says what is being tried. */
export function announceSlack(parts: SlackParts, print: (line: string) => void): void {
  let said: SlackHealth['state'] | undefined;
  const say = (health: SlackHealth) => {
    if (health.state === said || health.state === 'dry_run' || health.state === 'checking') return;
    said = health.state;
    if (health.state === 'ok') print('slack   Slack took the bot token: posting');
    else print(`slack   ${health.state === 'token_refused' ? `Slack refused the bot token (${health.reason})` : `cannot reach Slack (${health.reason})`}: ${health.fix}`);
  };
  // Called after the banner: what Slack already answered is said now, the rest when it comes.
  say(parts.sink.health);
  parts.sink.on('health', say);
  const app = parts.socketApp;
  if (!app) return;
  // Once: later reconnects are the log's business.
  let announced = false;
  const connected = () => {
    if (!announced) print(`slack   ${app.commandName} answered over Socket Mode (connected)`);
    announced = true;
  };
  if (app.connected) connected();
  app.onConnected(connected);
}

/** Lines for the start banner: where events go, named route by route. */
export function describeSlack(config: Config, parts: SlackParts): string[] {
  const slack = config.slack;
  const lines: string[] = [];
  if (parts.dryRun) {
    lines.push(`slack   dry run (no SLACK_BOT_TOKEN): what would be posted to Slack is printed here`);
  } else {
    lines.push(`slack   posting via ${slack.apiUrl}; the bot token is checked with Slack now (see the log and /readyz)`);
  }
  const fallback = slack.defaultChannel ?? (parts.dryRun ? DRY_RUN_CHANNEL : undefined);
  for (const route of slack.routes.slice(0, MAX_ROUTE_LINES)) lines.push(`        ${describeRoute(route)}`);
  if (slack.routes.length > MAX_ROUTE_LINES) lines.push(`        … and ${slack.routes.length - MAX_ROUTE_LINES} more rules (slack.routes)`);
  lines.push(`        ${slack.routes.length > 0 ? 'anything else' : 'every event'} → ${fallback ?? 'dropped (no slack.defaultChannel)'}`);
  if (parts.socketApp) lines.push(`        ${slack.command.name}: connecting to Slack over Socket Mode…`);
  return lines;
}

const MAX_ROUTE_LINES = 8;

function describeRoute(route: Config['slack']['routes'][number]): string {
  const m = route.match;
  const parts = [
    m.type && `type ${[m.type].flat().join('|')}`,
    m.severity && `severity ${[m.severity].flat().join('|')}`,
    m.source && `source ${[m.source].flat().join('|')}`,
    m.project && `project ${[m.project].flat().join('|')}`,
    m.data && `data ${Object.keys(m.data).join(', ')}`,
  ].filter(Boolean);
  const to = route.drop ? 'dropped' : route.channel ?? `DM ${route.dm ?? '?'}`;
  return `${parts.length > 0 ? parts.join(', ') : 'every event'} → ${to}${route.continue ? ' (and on)' : ''}`;
}
