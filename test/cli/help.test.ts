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
    // All at once: each is a process start, and there are a dozen.
    const helps = await Promise.all(names.map((name) => run([name, '--help'])));
    for (const [i, { code, stdout }] of helps.entries()) {
      expect(code, names[i]).toBe(0);
      expect(stdout, `bellhop ${names[i]} --help`).toMatch(/^ {2}-c, --config <path>/m);
    }
  });

  // A config that fails to load shows the file was read, without starting anything.
  it.each([['start'], ['emit', 'bell.test']])('is read before and after the subcommand: %s', async (...command) => {
    const placements = [['-c', bad, ...command], [...command, '-c', bad], [...command, '--config', bad]];
    const results = await Promise.all(placements.map((args) => run(args)));
    for (const [i, { code, stderr }] of results.entries()) {
      expect(code, `bellhop ${placements[i]!.join(' ')}: ${stderr}`).toBe(78);
      expect(stderr).toContain('config error: noSuchKey: unknown key');
    }
  });
});
