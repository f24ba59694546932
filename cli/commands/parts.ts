// Each part on its own, against any broker by URL.
import type { Command } from 'commander';
import { resolveMqttUrl } from '../../shared/mqtt.js';
import { buildAgent, buildBroker, buildServer } from '../compose.js';
import { runParts } from '../run.js';
import { InstanceFile } from '../instance-file.js';
import { print, setup } from '../context.js';

export function registerParts(program: Command): void {
  program
    .command('broker')
    .description('run only the embedded MQTT broker')
    .action(async (_opts, cmd: Command) => {
      const { config, logger } = setup(cmd);
      const broker = await buildBroker(config, logger);
      await runParts([broker, new InstanceFile(config.dataDir, [['broker', () => broker.url]])], logger);
      print(`bellhop broker listening on ${broker.url}`);
    });

  program
    .command('server')
    .description('run only the HTTP server, publishing to mqtt.url')
    .action(async (_opts, cmd: Command) => {
      const { config, logger } = setup(cmd);
      const { server } = await buildServer(config, logger);
      await runParts([server, new InstanceFile(config.dataDir, [['server', () => server.url]])], logger);
      print(`bellhop server listening on ${server.url}, publishing to ${resolveMqttUrl(config)}`);
    });

  program
    .command('agent')
    .description('run only the bell agent (on the Pi), subscribed to mqtt.url')
    .action(async (_opts, cmd: Command) => {
      const { config, logger } = setup(cmd);
      const { agent, driver } = await buildAgent(config, logger, print);
      // Said only once the broker has answered the subscription, never on a bare start.
      agent.once('subscribed', () => print(`bellhop agent ${config.device.id} (${driver.name} driver) subscribed via ${resolveMqttUrl(config)}`));
      await runParts([agent], logger, [() => agent.emergencyLow()]);
    });
}
