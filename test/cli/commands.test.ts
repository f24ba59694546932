// The CLI loads only the module of the subcommand it runs; the catalogue that says which
// module has which subcommand must not drift from what the modules register.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, commandNamed } from '../../cli/commands/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/world.js';

describe('the command catalogue', () => {
  it('names exactly the subcommands each module registers', async () => {
    for (const entry of COMMANDS) {
      const program = new Command('bellhop');
      (await entry.load())(program);
      expect(program.commands.map((c) => c.name())).toEqual(entry.names);
    }
  });

  it('singles out the subcommand wherever the global options put it', () => {
    const named = (...args: string[]) => commandNamed(args)?.names;
    expect(named('agent')).toContain('agent');
    expect(named('-c', '/etc/bellhop/agent.yaml', 'agent')).toContain('agent');
    expect(named('--config=/etc/x.yaml', '--log-level', 'debug', 'start', '--help')).toEqual(['start']);
    expect(named('-c/etc/x.yaml', '--log-format', 'json', 'types', '--json')).toEqual(['types']);
    // Nothing to single out: every module is loaded and commander answers as it always did.
    expect(named()).toBeUndefined();
    expect(named('--help')).toBeUndefined();
    expect(named('-V')).toBeUndefined();
    expect(named('help', 'agent')).toBeUndefined();
    expect(named('agnet')).toBeUndefined();
  });
});

describe('bellhop agent', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('loads neither the other parts nor the other commands', async () => {
    const list = join(dir.path, 'loaded.txt');
    const hooks = join(dir.path, 'hooks.mjs');
    const register = join(dir.path, 'register.mjs');
    writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(list)}, url + '\\n');\n  return next(url, context);\n}\n`);
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    writeFileSync(list, '');
    // A broker that refuses: the agent has loaded all it runs once it says it will retry.
    const p = runCli(['agent'], {
      NODE_OPTIONS: `--import=${pathToFileURL(register).href}`,
      BELLHOP_DATA_DIR: dir.path,
      BELLHOP_MQTT_URL: 'mqtt://127.0.0.1:1',
      BELLHOP_GPIO_DRIVER: 'mock',
      BELLHOP_LOG_FORMAT: 'json',
    });
    try {
      await waitFor(() => p.stderr().includes('MQTT broker unreachable'), { what: 'the agent retrying' });
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    const loaded = readFileSync(list, 'utf8').split('\n').filter((u) => u.includes('/dist/') || u.includes('/node_modules/'));
    expect(loaded.some((u) => u.endsWith('/dist/device/agent.js'))).toBe(true);
    const foreign = loaded.filter((u) =>
      /\/dist\/(server|broker|slack)\/|\/dist\/cli\/(doctor|emit)|\/dist\/cli\/commands\/(?!index|parts)|\/node_modules\/(fastify|aedes|@slack|level|classic-level|prom-client|pino-pretty)\//.test(u),
    );
    expect(foreign).toEqual([]);
  });
});
