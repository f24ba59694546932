// `bellhop doctor`'s Slack checks: do the tokens work (auth.test, apps.connections.open),
// which scopes are missing, and will events go anywhere at all. Plain words, with
// where in Slack's app settings to fix each thing. A scope is required (missing = FAIL)
// when this config cannot work without it, recommended (missing = a warning, which passes)
// when bellhop works without it but gives a weaker guarantee, else only mentioned.
import { WebAPIPlatformError, type WebClient } from '@slack/web-api';
import type { SlackConfig } from '../../shared/config/schema.js';
import { classify } from '../../slack/api.js';

export interface SlackCheck {
  ok: boolean;
  message: string;
  /** Passes, but something recommended is missing. */
  warning?: true;
}

export interface SlackClients {
  bot?: WebClient | undefined;
  app?: WebClient | undefined;
}

const RELOAD = 'under OAuth & Permissions > Bot Token Scopes, then reinstall the app to the workspace';

export async function slackChecks(slack: SlackConfig, clients: SlackClients): Promise<SlackCheck[]> {
  const results: SlackCheck[] = [];
  if (slack.routes.length === 0 && !slack.defaultChannel) {
    results.push({ ok: false, message: 'no routes and no default channel: every event would be dropped. Set BELLHOP_SLACK_CHANNEL (or slack.defaultChannel) or add slack.routes' });
  }
  if (clients.bot) results.push(...(await botChecks(slack, clients.bot)));
  else results.push({ ok: true, message: 'no bot token (SLACK_BOT_TOKEN): the sink runs as a dry run and only prints what it would post' });
  if (clients.app) results.push(await appCheck(clients.app, slack.apiUrl));
  else if (clients.bot) results.push({ ok: true, message: `no app token (SLACK_APP_TOKEN): ${slack.command.name} is off` });
  return results;
}

async function botChecks(slack: SlackConfig, bot: WebClient): Promise<SlackCheck[]> {
  let scopes: string[] | undefined;
  const results: SlackCheck[] = [];
  try {
    const res = await bot.auth.test();
    results.push({ ok: true, message: `bot token works: ${res.user ? `@${res.user}` : 'the bot'} in ${res.team ?? 'the workspace'}` });
    scopes = res.response_metadata?.scopes;
  } catch (err) {
    const fix = err instanceof WebAPIPlatformError ? 'Copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions into SLACK_BOT_TOKEN' : `Check the network and slack.apiUrl (${slack.apiUrl})`;
    return [{ ok: false, message: `bot token: ${explain(err)}. ${fix}` }];
  }
  if (!scopes) return [...results, { ok: true, message: 'Slack did not list the token\'s scopes, so they were not checked' }];
  const has = new Set(scopes);
  const usesDm = slack.routes.some((r) => r.dm !== undefined);
  const usesChannels = slack.defaultChannel !== undefined || slack.routes.some((r) => r.channel !== undefined);
  // After a crash between Slack taking a post and bellhop recording it, bellhop looks in the
  // conversation for it before posting again; without these it posts again (it may show twice).
  const twice = 'so a post Slack took just before a crash may show twice';
  const needs: Array<{ scope: string; need: Need; why: string }> = [
    { scope: 'chat:write', need: 'required', why: 'bellhop cannot post or update messages' },
    { scope: 'users:read', need: usesDm ? 'required' : 'optional', why: 'bellhop cannot look people up for dm: routes' },
    { scope: 'users:read.email', need: usesDm ? 'required' : 'optional', why: 'bellhop cannot find people by email for dm: routes' },
    { scope: 'commands', need: slack.appToken !== undefined ? 'required' : 'optional', why: `Slack will not offer the ${slack.command.name} command` },
    { scope: 'channels:history', need: usesChannels ? 'recommended' : 'optional', why: `bellhop cannot look in public channels for a post it may already have made, ${twice}` },
    { scope: 'groups:history', need: usesChannels ? 'recommended' : 'optional', why: `bellhop cannot look in private channels for a post it may already have made, ${twice}` },
    { scope: 'im:history', need: usesDm ? 'recommended' : 'optional', why: `bellhop cannot look in DMs for a post it may already have made, ${twice}` },
    { scope: 'channels:read', need: usesChannels ? 'recommended' : 'optional', why: 'bellhop cannot find a public channel\'s id by name, needed to look for a post made just before a crash when it was bellhop\'s first there' },
    { scope: 'groups:read', need: usesChannels ? 'recommended' : 'optional', why: 'bellhop cannot find a private channel\'s id by name, needed to look for a post made just before a crash when it was bellhop\'s first there' },
    { scope: 'im:write', need: usesDm ? 'recommended' : 'optional', why: 'bellhop cannot find a DM\'s id (conversations.open), needed to look for a DM sent just before a crash when it was bellhop\'s first to that person' },
  ];
  for (const { scope, need, why } of needs) {
    if (has.has(scope)) continue;
    results.push(
      need === 'required'
        ? { ok: false, message: `missing scope ${scope}: ${why}. Add it ${RELOAD}` }
        : need === 'recommended'
          ? { ok: true, warning: true, message: `recommended scope ${scope} is missing: ${why}. Add it ${RELOAD}` }
          : { ok: true, message: `scope ${scope} is missing but not needed with this config (${why.replace(/^bellhop cannot/, 'it would let bellhop').replace(/, so .*$/, '')})` },
    );
  }
  if (needs.every((n) => has.has(n.scope))) results.push({ ok: true, message: `scopes: ${needs.map((n) => n.scope).join(', ')} all granted` });
  return results;
}

type Need = 'required' | 'recommended' | 'optional';

async function appCheck(app: WebClient, apiUrl: string): Promise<SlackCheck> {
  try {
    await app.apps.connections.open();
    return { ok: true, message: 'app token works: Socket Mode can connect' };
  } catch (err) {
    const fix =
      err instanceof WebAPIPlatformError
        ? 'Turn on Socket Mode (Settings > Socket Mode) and put an app-level token with connections:write (Basic Information > App-Level Tokens) into SLACK_APP_TOKEN'
        : `Check the network and slack.apiUrl (${apiUrl})`;
    return { ok: false, message: `app token: ${explain(err)}. ${fix}` };
  }
}

function explain(err: unknown): string {
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    const words: Record<string, string> = {
      invalid_auth: 'Slack does not accept it (invalid_auth)',
      not_authed: 'no token was sent (not_authed)',
      token_revoked: 'it was revoked (token_revoked)',
      account_inactive: 'the app or its user was deactivated (account_inactive)',
      not_allowed_token_type: 'it is the wrong kind of token (not_allowed_token_type)',
    };
    return words[code] ?? `Slack refused it (${code})`;
  }
  return `Slack could not be reached (${classify(err).reason})`;
}
