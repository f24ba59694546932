import type { Command } from 'commander';
import { resolveMqttUrl } from '../../shared/mqtt.js';
import { announceSlack, buildAgent, buildBroker, buildServer, buildSlack, describeSlack, sharedMetrics, slackReadiness } from '../compose.js';
import { Runner } from '../run.js';
import { InstanceFile } from '../instance-file.js';
import { print, setup } from '../context.js';
import { PrintBudget } from '../../shared/print-budget.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run broker, server and bell agent in one process (the all-in-one default)')
    .action(async (_opts, cmd: Command) => {
      const context = setup(cmd);
      const logger = context.logger;
      let config = context.config;
      const runner = new Runner(logger);
      // With mqtt.url set, the team runs its own broker and the embedded one stays off.
      const broker = config.mqtt.url ? undefined : await buildBroker(config, logger);
      if (broker) {
        await runner.start(broker);
        // The other parts reach the embedded broker by URL, like any external one (port 0 resolved).
        config = { ...config, mqtt: { ...config.mqtt, url: broker.url } };
      }
      const metrics = await sharedMetrics(config);
      // The server publishes to the broker of its own process directly (no loopback socket).
      const { server, token, tokenFile } = await buildServer(config, logger, metrics, broker?.local());
      // Without a bot token the sink runs dry and prints what it would post.
      const slack = await buildSlack(config, logger, print, metrics);
      const socketApp = slack.socketApp;
      if (socketApp) server.addReadinessCheck('slackSocket', () => socketApp.connected);
      if (!slack.dryRun) server.addReadinessCheck('slack', () => slackReadiness(slack.sink.health));
      await runner.start(server);
      const { agent, driver } = await buildAgent(config, logger, print);
      runner.onEmergency(() => agent.emergencyLow());
      // One line a ring while they are few; under a flood the first few a second, then a count.
      const rings = new PrintBudget(print, { what: 'events handled', prefix: `${config.device.id} ` });
      agent.on('rang', (report, event) =>
        rings.line(() => `${report.deviceId} ${report.suppressed ? `did not ring (${report.suppressed})` : `rang ${report.strikes}x`} for ${event.type} ${event.id}`),
      );
      await runner.start(agent);
      await runner.start(slack.sink);
      if (socketApp) await runner.start(socketApp);
      await runner.start(new InstanceFile(config.dataDir, [['server', () => server.url], ...(broker ? [['broker', () => broker.url] as ['broker', () => string]] : [])]));
      const body = JSON.stringify({ type: 'user.signup', data: { email: 'a@example.com' } });
      print('');
      print('bellhop is running');
      print(`  broker  ${broker ? `${broker.url} (embedded, data in ${config.dataDir})` : `${resolveMqttUrl(config)} (external)`}`);
      print(`  server  ${server.url}`);
      // The token itself only to a person at a terminal: under systemd stdout is the journal.
      const bearer = tokenFile ? (process.stdout.isTTY ? token : `$(cat '${tokenFile}')`) : '$BELLHOP_TOKEN';
      const where = tokenFile ? `the API token in ${tokenFile}` : 'one of your server.tokens';
      if (config.status.enabled) print(`  status  ${server.url}/status/ (sign in with ${where})`);
      print(`  bell    ${config.device.id} via the ${driver.name} GPIO driver (pin ${config.device.gpio.pin})`);
      for (const line of describeSlack(config, slack)) print(`  ${line}`);
      print('');
      print('Ring the bell:');
      print(`  curl -X POST ${server.url}/v1/events -H "Authorization: Bearer ${bearer}" -H 'Content-Type: application/json' -d '${body}'`);
      if (!tokenFile) print('  (BELLHOP_TOKEN: one of your server.tokens; configured tokens are never printed)');
      print('');
      announceSlack(slack, print);
    });
}
