import { afterEach, describe, expect, it } from 'vitest';
import { createWebClient } from '../../slack/api.js';
import { slackChecks } from '../../cli/doctor/slack-checks.js';
import { slackSection } from '../../cli/doctor/slack.js';
import { parseConfig } from '../../shared/config/load.js';
import { APP_TOKEN, BOT_TOKEN, FakeSlack } from '../fake-slack/server.js';
import { silentLogger } from '../helpers/world.js';

let fake: FakeSlack | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

async function check(slack: Record<string, unknown>, scopes?: string[]) {
  fake = new FakeSlack(scopes ? { scopes } : {});
  await fake.start();
  const config = parseConfig({ slack: { apiUrl: fake.apiUrl, ...slack } });
  const client = (token: string | undefined) => (token ? createWebClient({ token, apiUrl: fake!.apiUrl, timeoutMs: 2000, logger: silentLogger() }) : undefined);
  return slackChecks(config.slack, { bot: client(config.slack.botToken), app: client(config.slack.appToken) });
}

describe('bellhop doctor, Slack section', () => {
  it('says the tokens work and every scope is granted', async () => {
    const results = await check({ botToken: BOT_TOKEN, appToken: APP_TOKEN, defaultChannel: '#bellhop' });
    expect(results).toEqual([
      { ok: true, message: 'bot token works: @bellhop in Fake Team' },
      {
        ok: true,
        message: 'scopes: chat:write, users:read, users:read.email, commands, channels:history, groups:history, im:history, channels:read, groups:read, im:write all granted',
      },
      { ok: true, message: 'app token works: Socket Mode can connect' },
    ]);
  });

  it('names each missing scope in plain words, failing only for the ones this config needs', async () => {
    const results = await check(
      { botToken: BOT_TOKEN, appToken: APP_TOKEN, routes: [{ match: { type: 'notification.*' }, dm: '{data.user_email}' }] },
      ['chat:write', 'users:read'],
    );
    expect(results.filter((r) => !r.ok).map((r) => r.message)).toEqual([
      'missing scope users:read.email: bellhop cannot find people by email for dm: routes. Add it under OAuth & Permissions > Bot Token Scopes, then reinstall the app to the workspace',
      'missing scope commands: Slack will not offer the /ding command. Add it under OAuth & Permissions > Bot Token Scopes, then reinstall the app to the workspace',
    ]);
    const relaxed = await check({ botToken: BOT_TOKEN, defaultChannel: '#x' }, ['chat:write']);
    expect(relaxed.every((r) => r.ok)).toBe(true);
    expect(relaxed.map((r) => r.message)).toContain('scope users:read.email is missing but not needed with this config (it would let bellhop find people by email for dm: routes)');
    expect(relaxed.map((r) => r.message)).toContain('scope im:history is missing but not needed with this config (it would let bellhop look in DMs for a post it may already have made)');
  });

  it('warns, without failing, about each missing scope that lets it look for a post before sending it again', async () => {
    const results = await check(
      { botToken: BOT_TOKEN, defaultChannel: '#x', routes: [{ match: { type: 'notification.*' }, dm: '{data.user_email}' }] },
      ['chat:write', 'users:read', 'users:read.email', 'channels:read', 'groups:read', 'groups:history'],
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.filter((r) => r.warning).map((r) => r.message)).toEqual([
      'recommended scope channels:history is missing: bellhop cannot look in public channels for a post it may already have made, so a post Slack took just before a crash may show twice. Add it under OAuth & Permissions > Bot Token Scopes, then reinstall the app to the workspace',
      'recommended scope im:history is missing: bellhop cannot look in DMs for a post it may already have made, so a post Slack took just before a crash may show twice. Add it under OAuth & Permissions > Bot Token Scopes, then reinstall the app to the workspace',
      "recommended scope im:write is missing: bellhop cannot find a DM's id (conversations.open), needed to look for a DM sent just before a crash when it was bellhop's first to that person. Add it under OAuth & Permissions > Bot Token Scopes, then reinstall the app to the workspace",
    ]);
  });

  it('explains a refused token and where to get the right one', async () => {
    const results = await check({ botToken: 'xoxb-wrong', appToken: 'xapp-wrong', defaultChannel: '#x' });
    expect(results).toEqual([
      { ok: false, message: 'bot token: Slack does not accept it (invalid_auth). Copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions into SLACK_BOT_TOKEN' },
      expect.objectContaining({ ok: false, message: expect.stringMatching(/^app token: Slack does not accept it \(invalid_auth\)\. Turn on Socket Mode/) as unknown }),
    ]);
  });

  it('warns that nothing would be posted without routes or a default channel, and says when Slack is unreachable', async () => {
    fake = new FakeSlack();
    await fake.start();
    fake.outage({ status: 503 });
    const config = parseConfig({ slack: { apiUrl: fake.apiUrl, botToken: BOT_TOKEN } });
    expect(slackSection.applies(config)).toBe(true);
    expect(slackSection.applies(parseConfig({}))).toBe(false);
    const results = await slackSection.run(config);
    expect(results.map((r) => r.ok)).toEqual([false, false, true]);
    expect(results[0]!.message).toMatch(/^no routes and no default channel: every event would be dropped/);
    expect(results[1]!.message).toBe(`bot token: Slack could not be reached (HTTP 503). Check the network and slack.apiUrl (${fake.apiUrl})`);
  });
});
