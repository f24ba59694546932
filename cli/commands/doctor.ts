import type { Command } from 'commander';
import { print, setup } from '../context.js';
import { resultLine, type DoctorSection } from '../doctor/check.js';
import { findInstance } from '../instance-file.js';

/** Every doctor section, in the order they are reported (loaded on use: the CLI starts light). */
async function sections(): Promise<DoctorSection[]> {
  const [{ localSection }, { gpioSection }, { mqttSection }, { slackSection }] = await Promise.all([
    import('../doctor/local.js'),
    import('../doctor/gpio.js'),
    import('../doctor/mqtt.js'),
    import('../doctor/slack.js'),
  ]);
  return [localSection, gpioSection, mqttSection, slackSection];
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the setup (broker reachable, credentials, ...) without striking the bell')
    .action(async (_opts, cmd: Command) => {
      const setUp = setup(cmd);
      // The embedded broker of a bellhop running on this data folder, at its real port.
      const embedded = setUp.config.mqtt.url ? undefined : findInstance(setUp.config.dataDir, 'broker');
      const config = embedded ? { ...setUp.config, mqtt: { ...setUp.config.mqtt, url: embedded.url } } : setUp.config;
      let failed = 0;
      for (const section of await sections()) {
        if (!section.applies(config)) continue;
        print(`${section.name}:`);
        for (const r of await section.run(config)) {
          if (!r.ok) failed++;
          print(resultLine(r));
        }
      }
      process.exitCode = failed > 0 ? 1 : 0;
    });
}
