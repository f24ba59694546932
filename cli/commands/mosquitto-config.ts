// `bellhop mosquitto-config --out DIR`: mosquitto.conf, acl and passwd equivalent to
// the embedded broker (same logins, same per-role grants), for teams moving to Mosquitto.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { mosquittoFiles, writeMosquittoFiles, DURABLE_AUTOSAVE } from '../../broker/mosquitto-files.js';
import { print, setup } from '../context.js';

interface Options {
  out: string;
  autosaveSeconds?: number;
  user?: string;
  usernameAsClientId?: boolean;
}

export function registerMosquittoConfig(program: Command): void {
  program
    .command('mosquitto-config')
    .description('write mosquitto.conf, acl and passwd equivalent to the embedded broker (from broker.users)')
    .requiredOption('--out <dir>', 'folder to write the files into (mosquitto.db goes to <dir>/data)')
    .option(
      '--autosave-seconds <n>',
      'save the persistence file every n seconds instead of after every change (faster; a crash loses up to n seconds of accepted events)',
      positiveInt,
    )
    .option('--user <name>', 'user Mosquitto switches to when started as root (its default: mosquitto)')
    .option(
      '--username-as-client-id',
      "force each client's id to its username, so one device's login cannot take over another bell's session (every server/Slack instance then needs its own login)",
    )
    .action((opts: Options, cmd: Command) => {
      const { config } = setup(cmd);
      const dir = resolve(opts.out);
      const files = mosquittoFiles({
        broker: config.broker,
        topicPrefix: config.mqtt.topicPrefix,
        dir,
        autosave: opts.autosaveSeconds ? { onChanges: false, intervalSeconds: opts.autosaveSeconds } : DURABLE_AUTOSAVE,
        user: opts.user,
        usernameAsClientId: opts.usernameAsClientId === true,
      });
      const paths = writeMosquittoFiles(dir, files);
      for (const path of [paths.conf, paths.acl, paths.passwd]) if (path) print(`wrote ${path}`);
      const scheme = config.broker.tls ? 'mqtts' : 'mqtt';
      print(`run: mosquitto -c ${paths.conf}`);
      print(`then point every part at it: mqtt.url: ${scheme}://<this host>:${config.broker.port}`);
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of seconds >= 1');
  return n;
}
