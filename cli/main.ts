#!/usr/bin/env node
// The bellhop command: each part on its own, or all of them in one process.
// Each subcommand lives in cli/commands/ and registers itself here.
import { Command, Option } from 'commander';
import { ConfigError } from '../shared/config/load.js';
import { registerStart } from './commands/start.js';
import { registerParts } from './commands/parts.js';
import { registerEmit } from './commands/emit.js';
import { registerDoctor } from './commands/doctor.js';
import { registerSlack } from './commands/slack.js';
import { registerInstallService } from './commands/install-service.js';
import { registerPinLow } from './commands/pin-low.js';
import { registerDocs } from './commands/docs.js';
import { registerMosquittoConfig } from './commands/mosquitto-config.js';
import { registerTypes } from './commands/types.js';
import { packageVersion } from '../shared/version.js';

const program = new Command('bellhop')
  .description('Hardware notifier bridge: HTTP events -> MQTT -> a service bell (and Slack)')
  .version(packageVersion(), '-V, --version', 'print the version of bellhop')
  .option('-c, --config <path>', 'YAML config file (default: $BELLHOP_CONFIG, else built-in defaults)')
  .addOption(new Option('--log-format <format>', 'json, or pretty (one coloured line per entry); default: pretty on a terminal, json otherwise (log.format)').choices(['auto', 'json', 'pretty']))
  // Commander reads -c on either side of the subcommand (`bellhop start -c f` too), so each
  // subcommand's help shows it; set before registering, as subcommands copy help settings.
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError();

for (const register of [registerStart, registerParts, registerSlack, registerEmit, registerDoctor, registerDocs, registerInstallService, registerPinLow, registerMosquittoConfig, registerTypes]) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof ConfigError ? `config error: ${err.message}` : `bellhop: ${(err as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(err instanceof ConfigError ? 78 : 1);
});
