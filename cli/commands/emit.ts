import type { Command } from 'commander';
import { emit } from '../emit.js';
import { print, setup } from '../context.js';

export function registerEmit(program: Command): void {
  program
    .command('emit')
    .description(
      'send one event to a running server, e.g. bellhop emit user.signup --data \'{"email":"a@example.com"}\' (task.failed defaults to the error severity; a 503 or 504 is retried with the same event id)',
    )
    .argument('<type>', 'event type, e.g. user.signup')
    .option('-d, --data <json>', 'event data as a JSON object')
    .option('--severity <level>', 'critical, error, warning or info')
    .option('--project <name>', 'project the event belongs to')
    .option('--subject <subject>', 'what the event is about')
    .option('--id <id>', 'event id (makes retries idempotent)')
    .option('--url <url>', 'server URL (default: the server running on this data folder, else the config)')
    .option('--token <token>', 'API token (default: $BELLHOP_API_TOKEN, the config, or the data folder)')
    .option('--signing-secret <whsec>', 'sign with Standard Webhooks instead of a token (default: $BELLHOP_SIGNING_SECRET)')
    .option('--retries <n>', 'further attempts, with the same event id, after a network error, a 503 or a 504 (default 3)')
    .action(async (type: string, opts: Record<string, string | undefined>, cmd: Command) => {
      const { config } = setup(cmd);
      const signingSecret = opts.signingSecret ?? process.env.BELLHOP_SIGNING_SECRET;
      const ids = await emit(type, { ...opts, ...(signingSecret && !opts.token ? { signingSecret } : {}) }, config);
      print(ids.join('\n'));
    });
}
