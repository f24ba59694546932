import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/world.js';

async function run(args: string[]) {
  const cli = runCli(args);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** The subcommands `bellhop --help` lists, so a new one is checked without touching this test. */
async function subcommands(): Promise<string[]> {
  const { stdout } = await run(['--help']);
  const section = stdout.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

describe('--config', () => {
  const dir = tempDir();
  const bad = join(dir.path, 'bad.yaml');
  beforeAll(() => {
    assertBuilt();
    writeFileSync(bad, 'dataDir: /var/lib/bellhop\nnoSuchKey: 1\n');
  });
  afterAll(() => dir.remove());

  it('shows in the help of every subcommand', async () => {
    const names = await subcommands();
    expect(names).toEqual(expect.arrayContaining(['start', 'agent', 'install-service', 'mosquitto-config', 'types']));
    for (const name of names) {
      const { code, stdout } = await run([name, '--help']);
      expect(code, name).toBe(0);
      expect(stdout, `bellhop ${name} --help`).toMatch(/^ {2}-c, --config <path>/m);
    }
  });

  // A config that fails to load shows the file was read, without starting anything.
  it.each([
    ['types'],
    ['start'],
    ['emit', 'bell.test'],
    ['mosquitto-config', '--out', 'unused'],
  ])('is read before and after the subcommand: %s', async (...command) => {
    for (const args of [['-c', bad, ...command], [...command, '-c', bad], [...command, '--config', bad]]) {
      const { code, stderr } = await run(args);
      expect(code, `bellhop ${args.join(' ')}: ${stderr}`).toBe(78);
      expect(stderr).toContain('config error: noSuchKey: unknown key');
    }
  });
});
