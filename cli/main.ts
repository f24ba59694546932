#!/usr/bin/env node
// The bellhop command: each part on its own, or all of them in one process.
// Each subcommand lives in cli/commands/ and registers itself here.
import { Command, Option } from 'commander';
import { ConfigError } from '../shared/config/load.js';
import { LOG_LEVELS } from '../shared/config/schema.js';
import { packageVersion } from '../shared/version.js';
import { COMMANDS, commandNamed } from './commands/index.js';

const program = new Command('bellhop')
  .description('Hardware notifier bridge: HTTP events -> MQTT -> a service bell (and Slack)')
  .version(packageVersion(), '-V, --version', 'print the version of bellhop')
  .option('-c, --config <path>', 'YAML config file (default: $BELLHOP_CONFIG, else built-in defaults)')
  .addOption(new Option('--log-format <format>', 'json, or pretty (one coloured line per entry); default: pretty on a terminal, json otherwise (log.format)').choices(['auto', 'json', 'pretty']))
  .addOption(new Option('--log-level <level>', 'debug adds a line per event in every part, with its eventId; default info (log.level, BELLHOP_LOG_LEVEL)').choices(LOG_LEVELS))
  // Commander reads -c on either side of the subcommand (`bellhop start -c f` too), so each
  // subcommand's help shows it; set before registering, as subcommands copy help settings.
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError();

// Only the module of the subcommand asked for is loaded (`bellhop agent` on a Pi pays for
// no other command's imports); for --help, `help` or a name commander must reject, all of them.
const asked = commandNamed(process.argv.slice(2));
for (const register of await Promise.all((asked ? [asked] : COMMANDS).map((c) => c.load()))) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof ConfigError ? `config error: ${err.message}` : `bellhop: ${(err as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(err instanceof ConfigError ? 78 : 1);
});
