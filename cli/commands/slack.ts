// `bellhop slack`: the Slack sink and the Socket Mode /ding app as their own process,
// against any broker by URL.
import type { Command } from 'commander';
import { resolveMqttUrl } from '../../shared/mqtt.js';
import type { Part } from '../../shared/part.js';
import { announceSlack, buildSlack, describeSlack } from '../compose.js';
import { runParts } from '../run.js';
import { print, setup } from '../context.js';

export function registerSlack(program: Command): void {
  program
    .command('slack')
    .description('run only the Slack sink (SLACK_BOT_TOKEN; without it, a dry run that prints) and the /ding app (SLACK_APP_TOKEN), subscribed to mqtt.url')
    .action(async (_opts, cmd: Command) => {
      const { config, logger } = setup(cmd);
      const slack = await buildSlack(config, logger, print);
      const parts: Part[] = [slack.sink, ...(slack.socketApp ? [slack.socketApp] : [])];
      await runParts(parts, logger);
      print(`bellhop slack subscribed via ${resolveMqttUrl(config)}`);
      for (const line of describeSlack(config, slack)) print(`  ${line}`);
      announceSlack(slack, print);
    });
}
