#!/usr/bin/env node
// The bellhop command: each part on its own, or all of them in one process.
import { Command } from 'commander';
import { loadConfig, ConfigError } from '../shared/config/load.js';
import type { Config } from '../shared/config/schema.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { resolveMqttUrl } from '../shared/mqtt.js';
import type { Part } from '../shared/part.js';
import { buildAgent, buildBroker, buildServer } from './compose.js';
import { runParts } from './run.js';
import { emit } from './emit.js';

const print = (line: string) => process.stdout.write(`${line}\n`);

function setup(cmd: Command): { config: Config; logger: Logger } {
  const { config: file } = cmd.optsWithGlobals<{ config?: string }>();
  const config = loadConfig({ file });
  // JSON logs go to stderr; stdout is kept for the lines meant for people.
  return { config, logger: createLogger(config.log.level, process.stderr) };
}

const program = new Command('bellhop')
  .description('Hardware notifier bridge: HTTP events -> MQTT -> a service bell (and Slack)')
  .option('-c, --config <path>', 'YAML config file (default: $BELLHOP_CONFIG, else built-in defaults)')
  .showHelpAfterError();

program
  .command('start')
  .description('run broker, server and bell agent in one process (the all-in-one default)')
  .action(async (_opts, cmd: Command) => {
    const { config, logger } = setup(cmd);
    const broker = config.mqtt.url ? undefined : buildBroker(config, logger);
    const { server, token } = buildServer(config, logger);
    const { agent, driver } = await buildAgent(config, logger, print);
    agent.on('rang', (report, event) => {
      const what = report.suppressed ? `did not ring (${report.suppressed})` : `rang ${report.strikes}x`;
      print(`${report.deviceId} ${what} for ${event.type} ${event.id}`);
    });
    const parts: Part[] = [...(broker ? [broker] : []), server, agent];
    await runParts(parts, logger, { emergency: [() => agent.emergencyLow()] });
    const body = JSON.stringify({ type: 'user.signup', data: { email: 'a@example.com' } });
    print('');
    print('bellhop is running');
    print(`  broker  ${broker ? `${broker.url} (embedded, data in ${config.dataDir})` : `${resolveMqttUrl(config)} (external)`}`);
    print(`  server  ${server.url}`);
    print(`  bell    ${config.device.id} via the ${driver.name} GPIO driver (pin ${config.device.gpio.pin})`);
    print('');
    print('Ring the bell:');
    print(`  curl -X POST ${server.url}/v1/events -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -d '${body}'`);
    print('');
  });

program
  .command('broker')
  .description('run only the embedded MQTT broker')
  .action(async (_opts, cmd: Command) => {
    const { config, logger } = setup(cmd);
    const broker = buildBroker(config, logger);
    await runParts([broker], logger);
    print(`bellhop broker listening on ${broker.url}`);
  });

program
  .command('server')
  .description('run only the HTTP server, publishing to mqtt.url')
  .action(async (_opts, cmd: Command) => {
    const { config, logger } = setup(cmd);
    const { server } = buildServer(config, logger);
    await runParts([server], logger);
    print(`bellhop server listening on ${server.url}, publishing to ${resolveMqttUrl(config)}`);
  });

program
  .command('agent')
  .description('run only the bell agent (on the Pi), subscribed to mqtt.url')
  .action(async (_opts, cmd: Command) => {
    const { config, logger } = setup(cmd);
    const { agent, driver } = await buildAgent(config, logger, print);
    await runParts([agent], logger, { emergency: [() => agent.emergencyLow()] });
    print(`bellhop agent ${config.device.id} (${driver.name} driver) subscribed via ${resolveMqttUrl(config)}`);
  });

program
  .command('emit')
  .description('send one event to a running server, e.g. bellhop emit user.signup --data \'{"email":"a@example.com"}\'')
  .argument('<type>', 'event type, e.g. user.signup')
  .option('-d, --data <json>', 'event data as a JSON object')
  .option('--severity <level>', 'critical, error, warning or info')
  .option('--project <name>', 'project the event belongs to')
  .option('--subject <subject>', 'what the event is about')
  .option('--id <id>', 'event id (makes retries idempotent)')
  .option('--url <url>', 'server URL (default: from the config)')
  .option('--token <token>', 'API token (default: $BELLHOP_API_TOKEN, the config, or the data folder)')
  .action(async (type: string, opts: Record<string, string | undefined>, cmd: Command) => {
    const { config } = setup(cmd);
    const ids = await emit(type, opts, config);
    print(ids.join('\n'));
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof ConfigError ? `config error: ${err.message}` : `bellhop: ${(err as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(err instanceof ConfigError ? 78 : 1);
});
