import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { entryPoint, planInstall, privateTmpProblems, renderUnit, serviceDataDir, SERVICES, systemdQuote } from '../../cli/commands/install-service.js';
import { loadConfig } from '../../shared/config/load.js';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/world.js';

const TEMPLATES = fileURLToPath(new URL('../../systemd/', import.meta.url));
const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
const sysusers = spawnSync('sh', ['-c', 'command -v systemd-sysusers']).status === 0 && process.getuid?.() === 0;
if (!analyze) console.warn('skipping systemd-analyze verify: systemd-analyze is not installed (apt-get install systemd)');
if (!sysusers) console.warn('skipping the user checks of install-service: needs systemd-sysusers and root');

const dirs: Array<() => void> = [];
afterEach(() => dirs.splice(0).forEach((r) => r()));

/** An empty root, or a Raspberry Pi OS-like one with a gpio group. */
function root(opts: { gpio?: boolean } = {}): string {
  const dir = tempDir('bellhop-root-');
  dirs.push(dir.remove);
  if (opts.gpio) {
    mkdirSync(join(dir.path, 'etc'));
    writeFileSync(join(dir.path, 'etc/group'), 'root:x:0:\ngpio:x:997:\n');
  }
  return dir.path;
}

/** KEY=value lines, as systemd's EnvironmentFile reads them. */
function envFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

async function install(kind: 'agent' | 'server', dir: string, ...extra: string[]) {
  const cli = runCli(['install-service', kind, '--root', dir, ...extra]);
  const code = await cli.exited;
  expect(code, cli.stderr()).toBe(0);
  return cli.stdout();
}

function verify(unitFile: string): { status: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('bellhop install-service', () => {
  beforeAll(() => assertBuilt());

  it('installs the agent: the unit, a config skeleton that loads, a 0640 secrets file, and prints the systemctl line', async () => {
    const dir = root({ gpio: true });
    const out = await install('agent', dir);
    const unit = readFileSync(join(dir, 'etc/systemd/system/bellhop-agent.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))} agent`);
    expect(unit).toMatch(/^ExecStopPost=.* pin-low$/m);
    expect(unit).toMatch(/^SupplementaryGroups=gpio$/m);
    expect(unit).toMatch(/^EnvironmentFile=-\/etc\/bellhop\/agent\.env$/m);
    expect(out).toContain('sudo systemctl daemon-reload && sudo systemctl enable --now bellhop-agent.service');

    const yaml = join(dir, 'etc/bellhop/agent.yaml');
    const env = join(dir, 'etc/bellhop/agent.env');
    expect(statSync(env).mode & 0o777).toBe(0o640);
    expect(statSync(yaml).mode & 0o777).toBe(0o640);
    const config = loadConfig({ file: yaml, env: envFile(env) });
    expect(config.device.gpio).toMatchObject({ driver: 'auto', pin: 17 });
    expect(config.device.mqtt.password).toBe('paste-the-device-password-here');
    expect(config.mqtt.url).toMatch(/^mqtt:\/\//);
  });

  it.skipIf(!sysusers)('creates the bellhop user in the gpio group', async () => {
    const dir = root({ gpio: true });
    await install('agent', dir);
    expect(readFileSync(join(dir, 'etc/passwd'), 'utf8')).toMatch(/^bellhop:x:\d+:\d+:bellhop:\/var\/lib\/bellhop:\/usr\/sbin\/nologin$/m);
    expect(readFileSync(join(dir, 'etc/group'), 'utf8')).toMatch(/^gpio:x:997:bellhop$/m);
    // The secrets file belongs to that group, so the service (and only it) may read it.
    const gid = Number(/^bellhop:x:(\d+):/m.exec(readFileSync(join(dir, 'etc/group'), 'utf8'))![1]);
    expect(statSync(join(dir, 'etc/bellhop/agent.env')).gid).toBe(gid);
  });

  it.skipIf(!analyze)('writes units that systemd-analyze verify accepts', async () => {
    for (const kind of ['agent', 'server'] as const) {
      const dir = root({ gpio: true });
      await install(kind, dir);
      const unit = join(dir, 'etc/systemd/system', kind === 'agent' ? 'bellhop-agent.service' : 'bellhop.service');
      expect(verify(unit)).toEqual({ status: 0, output: '' });
    }
  });

  it.skipIf(!analyze)('would be caught by systemd-analyze if a unit were broken', () => {
    const dir = root();
    const broken = join(dir, 'bellhop-agent.service');
    writeFileSync(broken, readFileSync(join(TEMPLATES, 'bellhop-agent.service'), 'utf8').replace('Type=exec', 'Type=sometimes'));
    expect(verify(broken).output).toMatch(/Failed to parse service type/);
  });

  it('installs the server with generated secrets that its config skeleton uses', async () => {
    const dir = root();
    const out = await install('server', dir);
    const env = envFile(join(dir, 'etc/bellhop/bellhop.env'));
    const secrets = Object.values(env);
    expect(Object.keys(env)).toEqual(['BELLHOP_API_TOKEN', 'BELLHOP_SERVER_MQTT_PASSWORD', 'BELLHOP_DEVICE_PASSWORD', 'BELLHOP_LOCAL_BELL_PASSWORD']);
    expect(new Set(secrets).size).toBe(4);
    for (const s of secrets) expect(s).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const config = loadConfig({ file: join(dir, 'etc/bellhop/bellhop.yaml'), env });
    expect(config.broker.users.map((u) => [u.username, u.role])).toEqual([
      ['server', 'server'],
      ['office-bell', 'device'],
      ['server-bell', 'device'],
    ]);
    expect(config.server.tokens).toEqual([{ name: 'env', token: env.BELLHOP_API_TOKEN, scope: 'write' }]);
    expect(out).toContain('sudo systemctl daemon-reload && sudo systemctl enable --now bellhop.service');
    expect(out).not.toContain(env.BELLHOP_DEVICE_PASSWORD);
  });

  it('keeps an existing config and secrets when run again, and replaces the unit', async () => {
    const dir = root();
    await install('server', dir);
    const before = readFileSync(join(dir, 'etc/bellhop/bellhop.env'), 'utf8');
    writeFileSync(join(dir, 'etc/systemd/system/bellhop.service'), 'stale');
    const out = await install('server', dir);
    expect(out).toContain(`keep ${join(dir, 'etc/bellhop/bellhop.env')} (already there)`);
    expect(readFileSync(join(dir, 'etc/bellhop/bellhop.env'), 'utf8')).toBe(before);
    expect(readFileSync(join(dir, 'etc/systemd/system/bellhop.service'), 'utf8')).toContain('ExecStart=');
  });

  it('only says what it would do with --dry-run, showing every file it would write', async () => {
    const dir = root();
    const out = await install('server', dir, '--dry-run');
    expect(out).toContain('would create the system user bellhop');
    expect(out).toContain('sudo systemctl daemon-reload && sudo systemctl enable --now bellhop.service');
    expect(existsSync(join(dir, 'etc'))).toBe(false);
    // Each "would write" line is followed by the file, indented by four spaces.
    const shown = (path: string) => {
      const after = out.split(new RegExp(`^would write ${path.replaceAll('.', '\\.')}.*$`, 'm'))[1];
      expect(after, `${path} in:\n${out}`).toBeDefined();
      return after!.split(/^(?! {4}|$)/m)[0]!.replace(/^ {4}/gm, '').trim();
    };
    const unit = shown(join(dir, 'etc/systemd/system/bellhop.service'));
    expect(unit).toMatch(new RegExp(`^ExecStart=${process.execPath} \\S+/dist/cli/main\\.js start$`, 'm'));
    expect(unit).toMatch(/^PrivateTmp=yes$/m);
    expect(shown(join(dir, 'etc/bellhop/bellhop.yaml'))).toBe(readFileSync(join(TEMPLATES, 'bellhop.yaml'), 'utf8').trim());
    // The secrets do not exist yet: a dry run must not print one that a later run would not use.
    expect(shown(join(dir, 'etc/bellhop/bellhop.env'))).toMatch(/^BELLHOP_API_TOKEN=<random, generated at install>$/m);
    expect(shown(join(dir, 'etc/sysusers.d/bellhop.conf'))).toMatch(/^u bellhop /m);
  });

  it('refuses a data folder under /tmp, which PrivateTmp=yes would hide, and writes nothing', async () => {
    const dir = root();
    mkdirSync(join(dir, 'etc/bellhop'), { recursive: true });
    writeFileSync(join(dir, 'etc/bellhop/agent.yaml'), 'dataDir: /tmp/bellhop-data\n');
    for (const extra of [[], ['--dry-run']]) {
      const cli = runCli(['install-service', 'agent', '--root', dir, ...extra]);
      expect(await cli.exited).toBe(1);
      expect(cli.stderr()).toMatch(/refusing.*\n.*the data folder \(dataDir\) \/tmp\/bellhop-data is under \/tmp, but the unit has PrivateTmp=yes/);
      expect(cli.stderr()).toContain('Set dataDir');
      expect(cli.stdout()).toBe('');
    }
    expect(existsSync(join(dir, 'etc/systemd'))).toBe(false);
    expect(existsSync(join(dir, 'etc/bellhop/agent.env'))).toBe(false);
  });

  it('refuses an unknown kind', async () => {
    const cli = runCli(['install-service', 'toaster', '--dry-run']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('expected agent or server, got "toaster"');
  });
});

describe('rendering a unit', () => {
  const template = readFileSync(join(TEMPLATES, 'bellhop-agent.service'), 'utf8');
  const render = (over: Partial<Parameters<typeof renderUnit>[1]> = {}) => {
    const notes: string[] = [];
    const unit = renderUnit(template, { node: '/usr/bin/node', main: '/usr/lib/node_modules/bellhop/dist/cli/main.js', user: 'bellhop', gpioGroup: true, systemdVersion: 255, notes, ...over });
    return { unit, notes };
  };

  it('points ExecStart and ExecStopPost at this installation', () => {
    const { unit } = render();
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/usr\/lib\/node_modules\/bellhop\/dist\/cli\/main\.js agent$/m);
    expect(unit).toMatch(/^ExecStopPost=\/usr\/bin\/node \/usr\/lib\/node_modules\/bellhop\/dist\/cli\/main\.js pin-low$/m);
  });

  it('backs restarts off on systemd 254 and later, and leaves the keys out where they are unknown (Raspberry Pi OS bookworm has 252)', () => {
    expect(render({ systemdVersion: 255 }).unit).toMatch(/^RestartSteps=\d+$/m);
    const old = render({ systemdVersion: 252 }).unit;
    expect(old).not.toMatch(/RestartSteps|RestartMaxDelaySec/);
    expect(old).toMatch(/^RestartSec=5s$/m);
  });

  it('leaves out the gpio group where there is none', () => {
    expect(render({ gpioGroup: false }).unit).not.toContain('SupplementaryGroups');
  });

  it('keeps a Node under a home folder readable', () => {
    const { unit, notes } = render({ node: '/home/pi/.nvm/versions/node/v20.11.0/bin/node' });
    expect(unit).toMatch(/^ProtectHome=read-only$/m);
    expect(notes.join()).toContain('ProtectHome=read-only');
  });

  it('keeps the hardening that still lets the agent write /sys/class/gpio', () => {
    const { unit } = render();
    for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'Restart=on-failure']) expect(unit).toContain(`\n${line}\n`);
    // ProtectKernelTunables would make /sys read-only.
    expect(unit).not.toMatch(/^ProtectKernelTunables=yes$/m);
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes$/m);
  });

  it('quotes paths for systemd', () => {
    expect(systemdQuote('/opt/my apps/node')).toBe('"/opt/my apps/node"');
    expect(systemdQuote('/opt/100%/node')).toBe('/opt/100%%/node');
  });

  it('refuses a bellhop under /tmp in the plan for this machine, and only warns with --root', () => {
    const real = planInstall({ kind: 'agent', node: '/usr/bin/node', main: '/tmp/bellhop/dist/cli/main.js', systemdVersion: 252 });
    expect(real.problems.filter((p) => p.startsWith('bellhop '))).toHaveLength(1);
    expect(real.problems.find((p) => p.startsWith('bellhop '))).toContain('bellhop /tmp/bellhop/dist/cli/main.js is under /tmp');
    const staged = planInstall({ kind: 'agent', root: root(), node: '/usr/bin/node', main: '/tmp/bellhop/dist/cli/main.js', systemdVersion: 252 });
    expect(staged.problems).toEqual([]);
    expect(staged.notes.some((n) => n.startsWith('if the target runs this same installation: bellhop /tmp/bellhop/dist/cli/main.js is under /tmp'))).toBe(true);
  });

  it('plans the same steps it prints', () => {
    const dir = root();
    const plan = planInstall({ kind: 'agent', root: dir, node: '/usr/bin/node', main: '/x/main.js', systemdVersion: 252 });
    expect(plan.unitPath).toBe(join(dir, 'etc/systemd/system/bellhop-agent.service'));
    expect(plan.steps.map((s) => s.what).join('\n')).toContain(`write ${plan.configPath} (config skeleton; mode 0640, group bellhop)`);
    expect(plan.notes.join('\n')).toContain('no "gpio" group here');
  });
});

describe('what the unit could not reach (PrivateTmp=yes)', () => {
  const ok = { node: '/usr/bin/node', main: '/usr/lib/node_modules/bellhop/dist/cli/main.js', config: '/etc/bellhop/agent.yaml', dataDir: '/var/lib/bellhop', version: '1.2.3' };

  it('accepts an ordinary installation, and folders that only start with "tmp"', () => {
    expect(privateTmpProblems(ok)).toEqual([]);
    expect(privateTmpProblems({ ...ok, main: '/tmpfs/bellhop/dist/cli/main.js', dataDir: '/var/tmpdata' })).toEqual([]);
  });

  it('refuses a checkout under /tmp or /var/tmp, saying why and how to install it elsewhere', () => {
    for (const main of ['/tmp/bellhop/dist/cli/main.js', '/var/tmp/b/dist/cli/main.js', '/tmp/../tmp/x/main.js']) {
      const [problem, ...more] = privateTmpProblems({ ...ok, main });
      expect(more).toEqual([]);
      expect(problem).toMatch(/PrivateTmp=yes, which gives the service an empty \/(var\/)?tmp of its own/);
      expect(problem).toContain('npm pack');
      expect(problem).toContain('sudo npm install -g ./bellhop-1.2.3.tgz');
    }
  });

  it('checks node, the config file and the data folder the same way', () => {
    const problems = privateTmpProblems({ ...ok, node: '/tmp/node-v20/bin/node', config: '/tmp/agent.yaml', dataDir: '/var/tmp/bellhop' });
    expect(problems.map((p) => p.split(' is under')[0])).toEqual(['node /tmp/node-v20/bin/node', 'the config file /tmp/agent.yaml', 'the data folder (dataDir) /var/tmp/bellhop']);
  });

  it('finds the data folder as the service will: dataDir, BELLHOP_DATA_DIR over it, relative to WorkingDirectory', () => {
    const unit = 'Environment=BELLHOP_CONFIG=/etc/bellhop/agent.yaml\nWorkingDirectory=/var/lib/bellhop\n';
    expect(serviceDataDir(unit, 'dataDir: /srv/bell\n', undefined)).toBe('/srv/bell');
    expect(serviceDataDir(unit, 'dataDir: state\n', '')).toBe('/var/lib/bellhop/state');
    expect(serviceDataDir(unit, 'log: { level: info }\n', '')).toBe('/var/lib/bellhop/data');
    expect(serviceDataDir(unit, 'dataDir: /srv/bell\n', '# secrets\nBELLHOP_DATA_DIR=/tmp/x\n')).toBe('/tmp/x');
    expect(serviceDataDir(`${unit}Environment=BELLHOP_DATA_DIR=/tmp/y\n`, '', 'BELLHOP_DATA_DIR=/opt/z\n')).toBe('/opt/z');
  });
});

describe('ExecStart of an installed bellhop', () => {
  it('is the real path of the package\'s dist/cli/main.js, also through a linked global install', () => {
    // `npm install -g ./bellhop-x.y.z.tgz` copies the package into <prefix>/lib/node_modules;
    // `npm install -g <folder>` links it there instead.
    const dir = root();
    const pkg = join(dir, 'src/bellhop');
    mkdirSync(join(pkg, 'dist/cli'), { recursive: true });
    writeFileSync(join(pkg, 'dist/cli/main.js'), '');
    mkdirSync(join(dir, 'prefix/lib/node_modules'), { recursive: true });
    symlinkSync(pkg, join(dir, 'prefix/lib/node_modules/bellhop'));
    const real = realpathSync(join(pkg, 'dist/cli/main.js'));
    expect(entryPoint(pkg)).toBe(real);
    expect(entryPoint(join(dir, 'prefix/lib/node_modules/bellhop'))).toBe(real);
    expect(() => entryPoint(join(dir, 'prefix'))).toThrow(/dist\/cli\/main\.js is missing: build bellhop first.*npm pack/);
  });

  it('is in the tarball npm pack makes, with the files install-service and the status page read', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [pack] = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = pack!.files.map((f) => f.path);
    for (const { unit, config, env } of Object.values(SERVICES)) expect(files).toEqual(expect.arrayContaining([unit, config, env].map((f) => `systemd/${f}`)));
    expect(files).toEqual(expect.arrayContaining(['dist/cli/main.js', 'dist/shared/version.js', 'server/status/public/index.html', 'config.example.yaml', 'package.json']));
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('dist/test/'))).toEqual([]);
  }, 30_000);

  it('is found through the npm bin link of a packed and installed bellhop (and refused when that is under /tmp)', async () => {
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const dir = root();
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: repo, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    // What `npm install -g --prefix <dir>/prefix ./bellhop-x.y.z.tgz` lays out, with this checkout's
    // dependencies instead of the registry's.
    const pkg = join(dir, 'prefix/lib/node_modules/bellhop');
    mkdirSync(pkg, { recursive: true });
    const untar = spawnSync('tar', ['-xzf', join(dir, pack.stdout.trim().split('\n').pop()!), '-C', pkg, '--strip-components=1'], { encoding: 'utf8' });
    expect(untar.status, untar.stderr).toBe(0);
    symlinkSync(join(repo, 'node_modules'), join(pkg, 'node_modules'));
    mkdirSync(join(dir, 'prefix/bin'));
    symlinkSync('../lib/node_modules/bellhop/dist/cli/main.js', join(dir, 'prefix/bin/bellhop'));
    const r = spawnSync(process.execPath, [join(dir, 'prefix/bin/bellhop'), 'install-service', 'agent', '--dry-run', '--root', join(dir, 'target')], { encoding: 'utf8' });
    const main = join(realpathSync(pkg), 'dist/cli/main.js');
    // Under /tmp (as here, a temp folder) this machine's install would be refused; with --root it is a warning.
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ExecStart=${process.execPath} ${main} agent`);
    if (/^\/(var\/)?tmp\//.test(main)) expect(r.stdout).toMatch(new RegExp(`bellhop ${main.replaceAll('.', '\\.')} is under /(var/)?tmp`));
    expect(existsSync(join(dir, 'target'))).toBe(false);
  }, 60_000);
});
