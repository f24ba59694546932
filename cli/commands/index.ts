// The catalogue of subcommands: which names each module of cli/commands/ registers, and how
// to load it. The CLI loads only the module of the subcommand it was asked for, so each
// command's imports (the broker's Mosquitto files, the server's webhook sources behind
// `types`, the client behind `emit`...) stay out of the others' processes.
// test/cli/commands.test.ts checks each module registers exactly the names listed here.
import type { Command } from 'commander';

export type Register = (program: Command) => void;

export interface CommandModule {
  /** The subcommands the module registers, as typed on the command line. */
  names: readonly string[];
  load: () => Promise<Register>;
}

/** In the order `bellhop --help` lists them. */
export const COMMANDS: readonly CommandModule[] = [
  { names: ['start'], load: async () => (await import('./start.js')).registerStart },
  { names: ['broker', 'server', 'agent'], load: async () => (await import('./parts.js')).registerParts },
  { names: ['slack'], load: async () => (await import('./slack.js')).registerSlack },
  { names: ['emit'], load: async () => (await import('./emit.js')).registerEmit },
  { names: ['doctor'], load: async () => (await import('./doctor.js')).registerDoctor },
  { names: ['config-reference'], load: async () => (await import('./docs.js')).registerDocs },
  { names: ['install-service'], load: async () => (await import('./install-service.js')).registerInstallService },
  { names: ['pin-low'], load: async () => (await import('./pin-low.js')).registerPinLow },
  { names: ['mosquitto-config'], load: async () => (await import('./mosquitto-config.js')).registerMosquittoConfig },
  { names: ['rabbitmq-config'], load: async () => (await import('./rabbitmq-config.js')).registerRabbitmqConfig },
  { names: ['types'], load: async () => (await import('./types.js')).registerTypes },
];

/** The program's own options that take a value, which may come before the subcommand. */
const VALUE_OPTIONS = new Set(['-c', '--config', '--log-format', '--log-level']);

/**
 * The command module for the subcommand in `args` (process.argv without node and the script),
 * or undefined when there is none to single out (--help, -V, `help`, an unknown name): then
 * every module is loaded and commander answers as it always did.
 */
export function commandNamed(args: readonly string[]): CommandModule | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    // --config=file, -cfile: the value rides along; any other option (-h, -V) means no single command.
    if (/^--(config|log-format|log-level)=/.test(arg) || /^-c./.test(arg)) continue;
    if (arg.startsWith('-')) return undefined;
    return COMMANDS.find((c) => c.names.includes(arg));
  }
  return undefined;
}
