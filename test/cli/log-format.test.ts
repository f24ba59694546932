// Logs as a person reads them at a terminal, and as the journal keeps them.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/world.js';

const running: CliProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
});

const env = () => ({ BELLHOP_DATA_DIR: tempDir().path, BELLHOP_HTTP_PORT: '0', BELLHOP_MQTT_PORT: '0', BELLHOP_GPIO_DRIVER: 'sim' });

async function firstLogLines(args: string[], extra: Record<string, string> = {}): Promise<string[]> {
  const p = runCli(args, { ...env(), ...extra });
  running.push(p);
  await p.waitForOutput(/Ring the bell:/);
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
  return p.stderr().split('\n').filter(Boolean);
}

describe('log format', () => {
  it('is one JSON object per line when stderr is not a terminal (the journal)', async () => {
    const lines = await firstLogLines(['start']);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ level: 30, part: 'broker', msg: 'broker listening' });
  });

  it('is one short line per entry with --log-format pretty or BELLHOP_LOG_FORMAT=pretty', async () => {
    for (const lines of [await firstLogLines(['--log-format', 'pretty', 'start']), await firstLogLines(['start'], { BELLHOP_LOG_FORMAT: 'pretty' })]) {
      expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: broker: broker listening \{"url":"mqtt:\/\/127\.0\.0\.1:\d+",/);
      expect(lines.some((l) => l.startsWith('{'))).toBe(false);
    }
  });

  it('refuses a format it does not know, naming the choices', async () => {
    const p = runCli(['--log-format', 'xml', 'start'], env());
    running.push(p);
    expect(await p.exited).not.toBe(0);
    expect(p.stderr()).toContain("option '--log-format <format>' argument 'xml' is invalid. Allowed choices are auto, json, pretty.");
  });
});
