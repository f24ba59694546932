// The README's quick start, run as written: `npm start` from the checkout, the curl it
// prints pasted into a shell, and the README's `npx bellhop emit` line. Only the data folder
// and the ports are moved aside (environment), so the test never takes 8080 or 1883.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { assertBuilt } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/world.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

const started: ChildProcess[] = [];
afterEach(() => {
  // npm runs the CLI under a shell: the whole process group goes.
  for (const child of started.splice(0)) if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
});

function shell(line: string, env: Record<string, string>): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn('sh', ['-c', line], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, detached: true });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

describe("the README's quick start", () => {
  it('works as written: npm start, the printed curl, and npx bellhop emit', async () => {
    assertBuilt();
    const quickStart = /```sh\n([\s\S]*?)```/.exec(README)?.[1]?.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()) ?? [];
    expect(quickStart).toContain('npm start');
    const emitLine = /`(npx bellhop emit [^`]+)`/.exec(README)?.[1];
    expect(emitLine).toBeDefined();

    const env = { BELLHOP_DATA_DIR: tempDir().path, BELLHOP_HTTP_PORT: '0', BELLHOP_MQTT_PORT: '0', BELLHOP_GPIO_DRIVER: 'sim' };
    const start = shell('npm start', env);
    started.push(start.child);
    await waitFor(() => /curl -X POST .+\n/.test(start.out()), { what: `the printed curl (stdout: ${start.out().slice(-300)}, stderr: ${start.err().slice(-300)})`, timeoutMs: 20_000 });
    const curl = /^\s*(curl -X POST .+)$/m.exec(start.out())![1]!;

    const pasted = shell(`${curl} -s -o /dev/null -w '%{http_code}'`, env);
    expect(await pasted.exited).toBe(0);
    expect(pasted.out()).toBe('202');
    await waitFor(() => /rang 1x for user\.signup/.test(start.out()), { what: 'the ring for the pasted curl' });

    const emit = shell(emitLine!, env);
    expect(await emit.exited).toBe(0);
    expect(emit.out()).toMatch(/^[0-9a-f-]{36}\n$/);
    await waitFor(() => (start.out().match(/rang 1x for user\.signup/g)?.length ?? 0) === 2, { what: 'the ring for the emitted event' });

    process.kill(-start.child.pid!, 'SIGTERM');
    // npm itself may die of the signal; what matters is that nothing exits with an error.
    const code = await start.exited;
    expect(code === 0 || start.child.signalCode === 'SIGTERM').toBe(true);
  });
});
