// The Slack section of `bellhop doctor`: tokens, scopes, routing; see slack-checks.ts.
import type { Config } from '../../shared/config/schema.js';
import { createLogger } from '../../shared/logger.js';
import { createWebClient } from '../../slack/api.js';
import { slackChecks } from './slack-checks.js';
import type { DoctorSection } from './check.js';

export const slackSection: DoctorSection = {
  name: 'slack',
  applies: (config: Config) => config.slack.botToken !== undefined || config.slack.appToken !== undefined,
  async run(config: Config) {
    const { slack } = config;
    const logger = createLogger('silent');
    const client = (token: string | undefined) =>
      token ? createWebClient({ token, apiUrl: slack.apiUrl, timeoutMs: Math.min(slack.requestTimeoutMs, 5000), logger }) : undefined;
    return slackChecks(slack, { bot: client(slack.botToken), app: client(slack.appToken) });
  },
};
