import type { Command } from 'commander';
import { print, setup } from '../context.js';
import type { DoctorSection } from '../doctor/check.js';
import { mqttSection } from '../doctor/mqtt.js';
import { slackSection } from '../doctor/slack.js';
import { gpioSection } from '../doctor/gpio.js';

/** Every doctor section, in the order they are reported. */
const SECTIONS: DoctorSection[] = [gpioSection, mqttSection, slackSection];

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the setup (broker reachable, credentials, ...) without striking the bell')
    .action(async (_opts, cmd: Command) => {
      const { config } = setup(cmd);
      let failed = 0;
      for (const section of SECTIONS) {
        if (!section.applies(config)) continue;
        print(`${section.name}:`);
        for (const r of await section.run(config)) {
          if (!r.ok) failed++;
          print(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.message}`);
        }
      }
      process.exitCode = failed > 0 ? 1 : 0;
    });
}
