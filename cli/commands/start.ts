import type { Command } from 'commander';
import { resolveMqttUrl } from '../../shared/mqtt.js';
import type { Part } from '../../shared/part.js';
import { buildAgent, buildBroker, buildServer } from '../compose.js';
import { runParts } from '../run.js';
import { print, setup } from '../context.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run broker, server and bell agent in one process (the all-in-one default)')
    .action(async (_opts, cmd: Command) => {
      const { config, logger } = setup(cmd);
      // With mqtt.url set, the team runs its own broker and the embedded one stays off.
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
}
