// Ports as a user meets them: one already taken stops `bellhop start` at once, naming the
// setting that picks another, with no noise from the parts it had started; and `bellhop
// emit` and `bellhop doctor` find a running bellhop's real ports in its data folder.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/world.js';

const running: CliProcess[] = [];
const held: Server[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  for (const s of held.splice(0)) await new Promise((r) => s.close(r));
});

function cli(args: string[], env: Record<string, string>): CliProcess {
  const p = runCli(args, env);
  running.push(p);
  return p;
}

/** A port some other program holds. */
async function takenPort(): Promise<number> {
  const server = createServer();
  held.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const base = (dataDir: string) => ({ BELLHOP_DATA_DIR: dataDir, BELLHOP_GPIO_DRIVER: 'sim' });

describe('a port that is taken', () => {
  it('stops bellhop start naming BELLHOP_MQTT_PORT and mqtt.url', async () => {
    const port = await takenPort();
    const p = cli(['start'], { ...base(tempDir().path), BELLHOP_MQTT_PORT: String(port), BELLHOP_HTTP_PORT: '0' });
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain(`bellhop: the embedded MQTT broker cannot listen on 127.0.0.1:${port}: the port is in use`);
    expect(p.stderr()).toContain('Choose a free port with BELLHOP_MQTT_PORT (broker.port), or set mqtt.url (BELLHOP_MQTT_URL) to use the broker that holds it');
  });

  it('stops bellhop start naming BELLHOP_HTTP_PORT, without warnings from the parts it stops', async () => {
    const port = await takenPort();
    const p = cli(['start'], { ...base(tempDir().path), BELLHOP_MQTT_PORT: '0', BELLHOP_HTTP_PORT: String(port) });
    expect(await p.exited).toBe(1);
    const lines = p.stderr().trim().split('\n');
    expect(lines.at(-1)).toBe(
      `bellhop: the HTTP server cannot listen on 127.0.0.1:${port}: the port is in use (another bellhop? \`ss -ltnp 'sport = :${port}'\` shows which program). Choose a free port with BELLHOP_HTTP_PORT (server.port)`,
    );
    // The server's own broker client is closed before the broker stops: no "lost the broker" lines.
    const warnings = lines.filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: number }).level >= 40);
    expect(warnings).toEqual([]);
  });
});

describe('a running bellhop, found in its data folder', () => {
  it('is what bellhop emit and bellhop doctor talk to, at its real ports', async () => {
    const data = tempDir().path;
    const p = cli(['start'], { ...base(data), BELLHOP_MQTT_PORT: '0', BELLHOP_HTTP_PORT: '0' });
    const [, url] = await p.waitForOutput(/curl -X POST (\S+)\/v1\/events/);

    // No --url and no port given: the server on port 0 is found all the same.
    const emit = cli(['emit', 'bell.test'], { BELLHOP_DATA_DIR: data });
    expect(await emit.exited).toBe(0);
    await waitFor(() => /rang 1x for bell\.test/.test(p.stdout()), { what: 'the emitted ding' });

    const doctor = cli(['doctor'], { BELLHOP_DATA_DIR: data, BELLHOP_GPIO_DRIVER: 'sim' });
    await doctor.exited;
    const out = doctor.stdout();
    expect(out).toContain(`ok   HTTP port: a running bellhop (pid ${p.child.pid}) listens at ${url}`);
    expect(out).toMatch(new RegExp(`ok {3}data folder ${data}: writable; in use by a running bellhop \\(pid ${p.child.pid}\\)`));
    expect(out).toMatch(/ok {3}API token .*api-token: present, only for its owner/);
    expect(out).toMatch(/broker:\n {2}ok {3}anonymous: connected to mqtt:\/\/127\.0\.0\.1:\d+/);

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    // Gone with the process, so the next emit does not aim at a dead port.
    expect(existsSync(join(data, 'run', 'server.json'))).toBe(false);
    expect(existsSync(join(data, 'run', 'broker.json'))).toBe(false);
  });

  it('doctor names a port another program holds', async () => {
    const port = await takenPort();
    const doctor = cli(['doctor'], { BELLHOP_DATA_DIR: tempDir().path, BELLHOP_HTTP_PORT: String(port), BELLHOP_MQTT_PORT: '0', BELLHOP_GPIO_DRIVER: 'sim' });
    expect(await doctor.exited).toBe(1);
    expect(doctor.stdout()).toContain(`FAIL HTTP port 127.0.0.1:${port}: in use by another program; choose another with BELLHOP_HTTP_PORT (server.port)`);
  });
});
