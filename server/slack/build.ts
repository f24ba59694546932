// Builds the Slack parts from the config: the sink (real with a bot token, a dry run
// that prints without one) and, with an app token, the Socket Mode /ding app.
import { join } from 'node:path';
import type { Config } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logger.js';
import { createWebClient, WebSlackApi, type SlackApi } from './api.js';
import { DryRunSlackApi } from './dry-run.js';
import { SlackSink } from './sink.js';
import { SocketApp } from './socket-app.js';

/** Where a dry run posts when the config names no channel, so a new user sees something. */
export const DRY_RUN_CHANNEL = '#bellhop';

export interface SlackParts {
  sink: SlackSink;
  socketApp: SocketApp | undefined;
  dryRun: boolean;
}

export function buildSlack(config: Config, logger: Logger, print: (line: string) => void): SlackParts {
  const slack = config.slack;
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
  const sink = new SlackSink({ config: sinkConfig, api, logger });
  if (!slack.botToken) {
    sink.on('report', (r) => {
      if (r.status === 'dropped') print(`slack (dry run) would not post event ${r.eventId}: ${r.error ?? 'dropped'}`);
    });
  }
  const socketApp = slack.appToken ? new SocketApp({ config, logger, botClient: slack.botToken ? webClient(slack.botToken) : undefined }) : undefined;
  return { sink, socketApp, dryRun: !slack.botToken };
}

/** Lines for the start banner. */
export function describeSlack(config: Config, parts: SlackParts): string[] {
  const lines: string[] = [];
  if (parts.dryRun) {
    lines.push(`slack   dry run (no SLACK_BOT_TOKEN): what would be posted to Slack is printed here`);
  } else {
    lines.push(`slack   posting via ${config.slack.apiUrl}${config.slack.defaultChannel ? `, default channel ${config.slack.defaultChannel}` : ''}, ${config.slack.routes.length} routing rules`);
  }
  if (parts.socketApp) lines.push(`        ${config.slack.command.name} answered over Socket Mode`);
  return lines;
}
