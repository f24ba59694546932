// `bellhop pin-low`: drives the bell pin low and releases it. The agent's systemd
// unit runs it as ExecStopPost, so the pin is low however the agent ended.
import type { Command } from 'commander';
import { drivePinLow } from '../../device/gpio/pin-low.js';
import { print, setup } from '../context.js';

export function registerPinLow(program: Command): void {
  program
    .command('pin-low')
    .description('drive the bell pin low and release it (run by systemd after the agent stops; safe any time)')
    .action(async (_opts, cmd: Command) => {
      const { config } = setup(cmd);
      print(await drivePinLow(config.device.gpio));
    });
}
