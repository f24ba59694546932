// Spawns bellhop parts (and the baseline) as their own processes, as in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface Child {
  proc: ChildProcess;
  match: RegExpMatchArray;
  stop: () => Promise<void>;
}

/** Starts `node <script> ...args` and resolves once stdout matches `ready`. */
export function startChild(script: string, args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 15_000): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${script} did not get ready in ${timeoutMs} ms: ${out} ${err.slice(-2000)}`));
    }, timeoutMs);
    proc.stderr!.on('data', (d: Buffer) => {
      // Keep only the tail: a busy part logs a line per event.
      err = (err + d.toString()).slice(-4000);
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = out.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({
          proc,
          match,
          stop: () =>
            new Promise<void>((done) => {
              if (proc.exitCode !== null) return done();
              proc.once('exit', () => done());
              proc.kill('SIGTERM');
            }),
        });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

export function rssKiB(pid: number): Promise<number> {
  return import('node:fs/promises').then(async ({ readFile }) => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    if (!m) throw new Error('no VmRSS');
    return Number(m[1]);
  });
}
