// `bellhop install-service agent|server`: writes the systemd unit (from systemd/,
// with ExecStart pointing at this very installation), a config skeleton and a
// secrets file under /etc/bellhop, creates the bellhop user (in the gpio group on
// a Pi), and prints the systemctl line that starts it. --dry-run prints the plan and
// every file with its content; --root DIR writes under another root (images, tests).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../shared/config/load.js';
import { packageRoot, packageVersion } from '../../shared/version.js';
import { print } from '../context.js';
import { unitGpioChip, withGpioChip } from '../../device/gpio/systemd-unit.js';

export type ServiceKind = 'agent' | 'server';

interface ServiceFiles {
  unit: string;
  config: string;
  env: string;
  /** The unit needs the gpio group (the bell agent). */
  gpio: boolean;
}

export const SERVICES: Readonly<Record<ServiceKind, ServiceFiles>> = {
  agent: { unit: 'bellhop-agent.service', config: 'agent.yaml', env: 'agent.env', gpio: true },
  server: { unit: 'bellhop.service', config: 'bellhop.yaml', env: 'bellhop.env', gpio: false },
};

/** systemd learned RestartSteps=/RestartMaxDelaySec= in version 254. */
const BACKOFF_SINCE = 254;

export interface InstallOptions {
  kind: ServiceKind;
  /** Where / is; default the real one. */
  root?: string;
  user?: string;
  /** What ExecStart runs; default this Node and this bellhop. */
  node?: string;
  main?: string;
  /** Default: asked from systemctl --version (252 when unknown, the cautious answer). */
  systemdVersion?: number;
  /** Where the templates are; default <bellhop>/systemd. */
  templates?: string;
}

export interface Step {
  /** What the step does, for people (and --dry-run). */
  what: string;
  run?: () => void;
  /** The file the step writes, for --dry-run to show. */
  content?: string;
}

export interface InstallPlan {
  steps: Step[];
  notes: string[];
  /** The line that enables and starts the service. */
  enable: string;
  unitPath: string;
  configPath: string;
  envPath: string;
  /** Why the unit could not start as planned (see privateTmpProblems); nothing may be written then. */
  problems: string[];
}

export function planInstall(opts: InstallOptions): InstallPlan {
  const root = opts.root ?? '/';
  const user = opts.user ?? 'bellhop';
  const files = SERVICES[opts.kind];
  const templates = opts.templates ?? join(packageRoot(), 'systemd');
  const at = (path: string) => join(root, path);
  const unitPath = at(`/etc/systemd/system/${files.unit}`);
  const configPath = at(`/etc/bellhop/${files.config}`);
  const envPath = at(`/etc/bellhop/${files.env}`);
  const notes: string[] = [];
  const steps: Step[] = [];

  const gpioGroup = files.gpio && groupExists(root, 'gpio');
  if (files.gpio && !gpioGroup) {
    notes.push('there is no "gpio" group here (not Raspberry Pi OS?): the unit runs without it, so the bell user needs another way to write /sys/class/gpio');
  }
  // Node as it runs, not its real path: a distribution's upgrade of /usr/bin/node keeps the unit working.
  const entry = { node: opts.node ?? process.execPath, main: opts.main ?? entryPoint(packageRoot()) };
  const unit = renderUnit(readFileSync(join(templates, files.unit), 'utf8'), {
    ...entry,
    user,
    gpioGroup,
    systemdVersion: opts.systemdVersion ?? systemdVersion(),
    notes,
    gpioChip: files.gpio ? unitGpioChip(root, notes) : undefined,
  });

  steps.push(...createUserSteps(root, user, gpioGroup));
  steps.push({ what: `create ${at('/etc/bellhop')}`, run: () => mkdirSync(at('/etc/bellhop'), { recursive: true, mode: 0o755 }) });
  steps.push({
    what: `write ${unitPath}${existsSync(unitPath) ? ' (replacing the one there)' : ''}`,
    content: unit,
    run: () => {
      mkdirSync(at('/etc/systemd/system'), { recursive: true });
      writeFileSync(unitPath, unit, { mode: 0o644 });
    },
  });
  for (const [path, template, secret] of [
    [configPath, files.config, false],
    [envPath, files.env, true],
  ] as const) {
    if (existsSync(path)) {
      steps.push({ what: `keep ${path} (already there)` });
      continue;
    }
    const skeleton = readFileSync(join(templates, template), 'utf8');
    const kind = !secret ? 'config skeleton' : skeleton.includes('@SECRET@') ? 'secrets, generated' : 'secrets to fill in';
    steps.push({
      what: `write ${path} (${kind}; mode 0640, group ${user})`,
      content: skeleton.replaceAll('@SECRET@', '<random, generated at install>'),
      run: () => {
        const text = skeleton.replaceAll('@SECRET@', () => randomBytes(24).toString('base64url'));
        writeFileSync(path, text, { mode: 0o640 });
        const gid = lookupId(join(root, 'etc/group'), user);
        if (gid !== undefined) chownSync(path, 0, gid);
      },
    });
  }
  if (opts.kind === 'server') notes.push(`each Pi's /etc/bellhop/agent.env needs BELLHOP_DEVICE_PASSWORD from ${envPath}`);
  if (opts.kind === 'agent') notes.push(`edit ${configPath} (broker URL, pin) and ${envPath} (the device password) before starting`);
  const enable = `sudo systemctl daemon-reload && sudo systemctl enable --now ${files.unit}`;
  const problems = privateTmpProblems({
    node: realOr(entry.node),
    main: realOr(entry.main),
    config: unitSetting(unit, 'BELLHOP_CONFIG') ?? configPath,
    dataDir: realOr(serviceDataDir(unit, readable(configPath) ?? readable(join(templates, files.config)), readable(envPath) ?? readable(join(templates, files.env)))),
    version: packageVersion(),
  });
  // With --root the unit is made for another root (an image, a test): where this machine keeps
  // bellhop and Node says nothing certain about that system, so those two only warn there.
  const ownPaths = (p: string) => p.startsWith('bellhop ') || p.startsWith('node ');
  if (root !== '/') {
    for (const p of problems.filter(ownPaths)) notes.push(`if the target runs this same installation: ${p}`);
    return { steps, notes, enable, unitPath, configPath, envPath, problems: problems.filter((p) => !ownPaths(p)) };
  }
  return { steps, notes, enable, unitPath, configPath, envPath, problems };
}

/**
 * bellhop's entry point by its real path (for a tarball installed with npm install -g:
 * <prefix>/lib/node_modules/bellhop/dist/cli/main.js): through the npm bin symlink or a
 * linked global install, ExecStart would follow whatever the link points at after the next install.
 */
export function entryPoint(packageDir: string): string {
  const main = join(packageDir, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build bellhop first (npm run build), or install it from a tarball (npm pack, then sudo npm install -g ./bellhop-${packageVersion()}.tgz)`);
  return realpathSync(main);
}

const PRIVATE_TMP = ['/tmp', '/var/tmp'];

/** What is under /tmp or /var/tmp, which PrivateTmp=yes replaces with empty folders of the service's own. */
export function privateTmpProblems(p: { node: string; main: string; config: string; dataDir: string; version: string }): string[] {
  const under = (path: string) => PRIVATE_TMP.find((t) => posix.resolve(path) === t || posix.resolve(path).startsWith(`${t}/`));
  const problems: string[] = [];
  const hidden = (what: string, path: string, fix: string) => {
    const tmp = under(path);
    if (tmp) problems.push(`${what} ${path} is under ${tmp}, but the unit has PrivateTmp=yes, which gives the service an empty ${tmp} of its own: ${fix}`);
  };
  hidden('bellhop', p.main, `the service would not find it and could not start. Install bellhop outside /tmp and /var/tmp and run install-service from there: clone and build it elsewhere (e.g. /opt/bellhop), or make a tarball here (npm pack) and install that (sudo npm install -g ./bellhop-${p.version}.tgz)`);
  hidden('node', p.node, 'the service could not start. Install Node outside /tmp and /var/tmp (your distribution\'s package, or NodeSource) and run install-service with it');
  hidden('the config file', p.config, 'the service would not find it. Keep it under /etc/bellhop');
  hidden('the data folder (dataDir)', p.dataDir, 'what bellhop keeps there (broker sessions, queued events, the API token) would go to that private folder, emptied at every restart. Set dataDir, and BELLHOP_DATA_DIR if the env file sets it, to /var/lib/bellhop (the unit\'s StateDirectory)');
  return problems;
}

/** The folder the service keeps its state in: dataDir of its config, BELLHOP_DATA_DIR over it, relative to WorkingDirectory. */
export function serviceDataDir(unit: string, configText: string | undefined, envText: string | undefined): string {
  // EnvironmentFile= wins over Environment=, as in systemd.
  const env = { ...keyValues(unit.split('\n').filter((l) => l.startsWith('Environment=')).map((l) => l.slice('Environment='.length)).join('\n')), ...keyValues(envText ?? '') };
  let yaml: unknown;
  try {
    yaml = parseYaml(configText ?? '');
  } catch {
    yaml = undefined; // loadConfig will say what is wrong with it when the service starts
  }
  const own = (yaml as { dataDir?: unknown } | null)?.dataDir;
  const dir = env.BELLHOP_DATA_DIR ?? (typeof own === 'string' ? own.replace(/\$\{(\w+)\}/g, (_m, v: string) => env[v] ?? '') : parseConfig({}).dataDir);
  return posix.resolve(/^WorkingDirectory=(.+)$/m.exec(unit)?.[1] ?? '/', dir);
}

/** KEY=value lines, as systemd's EnvironmentFile and Environment= read them. */
function keyValues(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

function unitSetting(unit: string, variable: string): string | undefined {
  return new RegExp(`^Environment=${variable}=(.+)$`, 'm').exec(unit)?.[1];
}

function readable(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

interface RenderOptions {
  node: string;
  main: string;
  user: string;
  gpioGroup: boolean;
  systemdVersion: number;
  notes: string[];
  /** The one /dev/gpiochipN the unit may open (device/gpio/systemd-unit.ts). */
  gpioChip?: string | undefined;
}

/** The template with this installation's paths and the target's capabilities. */
export function renderUnit(template: string, o: RenderOptions): string {
  let lines = template.split('\n');
  const exec = `${systemdQuote(o.node)} ${systemdQuote(o.main)}`;
  lines = lines.map((l) => l.replace(/^(Exec\w+=)\/usr\/bin\/env bellhop\b/, `$1${exec}`));
  lines = lines.map((l) => l.replace(/^User=.*/, `User=${o.user}`).replace(/^Group=.*/, `Group=${o.user}`));
  if (!o.gpioGroup) lines = lines.filter((l) => !l.startsWith('SupplementaryGroups=gpio'));
  lines = withGpioChip(lines, o.gpioChip);
  if (o.systemdVersion < BACKOFF_SINCE) {
    lines = lines.filter((l) => !/^(RestartSteps|RestartMaxDelaySec)=/.test(l) && !l.startsWith('# Back-off:'));
  }
  // A Node installed under a home folder (nvm, fnm) must stay readable.
  if ([o.node, o.main].some((p) => p.startsWith('/home/') || p.startsWith('/root/'))) {
    lines = lines.map((l) => (l === 'ProtectHome=yes' ? 'ProtectHome=read-only' : l));
    o.notes.push('node or bellhop lives under a home folder, so the unit uses ProtectHome=read-only');
  }
  return lines.join('\n');
}

/** One ExecStart argument: % doubled, quoted when it holds spaces or quotes. */
export function systemdQuote(arg: string): string {
  const escaped = arg.replaceAll('%', '%%');
  return /[\s"'\\]/.test(escaped) ? `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : escaped;
}

function createUserSteps(root: string, user: string, gpioGroup: boolean): Step[] {
  const conf = join(root, 'etc/sysusers.d/bellhop.conf');
  const groups = gpioGroup ? ' (member of gpio)' : '';
  const body =
    `# The user bellhop's services run as (written by bellhop install-service).\n` +
    `u ${user} - "bellhop" /var/lib/bellhop /usr/sbin/nologin\n` +
    (gpioGroup ? `m ${user} gpio\n` : '');
  const writeConf: Step = {
    what: `write ${conf}`,
    content: body,
    run: () => {
      mkdirSync(join(root, 'etc/sysusers.d'), { recursive: true });
      writeFileSync(conf, body, { mode: 0o644 });
    },
  };
  if (which('systemd-sysusers')) {
    const args = root === '/' ? [conf] : [`--root=${root}`, conf];
    return [writeConf, { what: `create the system user ${user}${groups} if missing: systemd-sysusers ${args.join(' ')}`, run: () => mustRun('systemd-sysusers', args) }];
  }
  if (root !== '/') return [writeConf, { what: `create the user ${user}${groups}: skipped (no systemd-sysusers to write under ${root})` }];
  const steps: Step[] = [writeConf];
  if (lookupId('/etc/passwd', user) === undefined) {
    const args = ['--system', '--user-group', '--home-dir', '/var/lib/bellhop', '--no-create-home', '--shell', '/usr/sbin/nologin', user];
    steps.push({ what: `create the system user ${user}: useradd ${args.join(' ')}`, run: () => mustRun('useradd', args) });
  }
  if (gpioGroup) steps.push({ what: `add ${user} to the gpio group: usermod -aG gpio ${user}`, run: () => mustRun('usermod', ['-aG', 'gpio', user]) });
  return steps;
}

/** The numeric id of a name in an /etc/passwd- or /etc/group-style file. */
function lookupId(file: string, name: string): number | undefined {
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined) return Number(fields[2]);
  }
  return undefined;
}

function groupExists(root: string, group: string): boolean {
  return lookupId(join(root, 'etc/group'), group) !== undefined;
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function systemdVersion(): number {
  const out = spawnSync('systemctl', ['--version'], { encoding: 'utf8' });
  const m = /^systemd (\d+)/.exec(out.stdout ?? '');
  return m ? Number(m[1]) : 252;
}

function mustRun(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
}

export function registerInstallService(program: Command): void {
  program
    .command('install-service')
    .description('install bellhop as a systemd service: agent (the Pi) or server (broker + HTTP API + Slack)')
    .argument('<kind>', 'agent or server')
    .option('--dry-run', 'print what would be done, change nothing')
    .option('--root <dir>', 'write under this folder instead of / (for images and tests)')
    .option('--user <name>', 'the system user the service runs as', 'bellhop')
    .action((kind: string, opts: { dryRun?: boolean; root?: string; user: string }) => {
      if (kind !== 'agent' && kind !== 'server') throw new Error(`install-service: expected agent or server, got "${kind}"`);
      const root = resolve(opts.root ?? '/');
      const plan = planInstall({ kind, root, user: opts.user });
      // Before asking for root: sudo would not make such a unit work.
      if (plan.problems.length > 0) throw new Error(`install-service: refusing, the unit could not work:\n${plan.problems.map((p) => `  - ${p}`).join('\n')}`);
      if (!opts.dryRun && root === '/' && process.getuid?.() !== 0) {
        throw new Error(`install-service writes to /etc and creates a user: run it as root (sudo bellhop install-service ${kind}), or try --dry-run`);
      }
      for (const step of plan.steps) {
        print(`${opts.dryRun ? 'would ' : ''}${step.what}`);
        // Indented, so the files stand apart from the plan; `sed 's/^    //'` gives them back.
        if (opts.dryRun && step.content !== undefined) for (const line of step.content.replace(/\n$/, '').split('\n')) print(line === '' ? '' : `    ${line}`);
        if (!opts.dryRun) step.run?.();
      }
      for (const note of plan.notes) print(`note: ${note}`);
      print('');
      print(opts.dryRun ? 'Then this would start it, now and at every boot:' : 'Start it, now and at every boot:');
      print(`  ${plan.enable}`);
      print(`  journalctl -u ${SERVICES[kind].unit} -f    # its logs`);
    });
}
