// `bellhop mosquitto-config --out DIR`: mosquitto.conf, acl and passwd equivalent to
// the embedded broker (same logins, same per-role grants), for teams moving to Mosquitto.
import { chownSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { mosquittoFiles, writeMosquittoFiles, DURABLE_AUTOSAVE } from '../../broker/mosquitto-files.js';
import { print, setup } from '../context.js';

interface Options {
  out: string;
  autosaveSeconds?: number;
  user?: string;
  usernameAsClientId?: boolean;
}

/** Who Mosquitto runs as when started as root, unless the config names another user. */
export const MOSQUITTO_USER = 'mosquitto';

export type Ownership = { chown: { uid: number; gid: number } } | { command: string };

/**
 * Started as root, Mosquitto switches to its user before it reads passwd and acl and
 * writes its persistence folder, so those must be that user's: given to it here when we
 * are root and it exists, else the command that does it.
 */
export function mosquittoOwnership(o: { uid: number | undefined; passwd: string; user: string; paths: readonly string[] }): Ownership {
  const entry = o.passwd.split('\n').map((l) => l.split(':')).find((f) => f[0] === o.user && f.length >= 4);
  if (o.uid === 0 && entry) return { chown: { uid: Number(entry[2]), gid: Number(entry[3]) } };
  return { command: `sudo chown -R ${o.user}: ${o.paths.map(shellQuote).join(' ')}` };
}

/** The folders above `path` that a user (not their owner, not in their group) cannot enter. */
export function closedAncestors(path: string, uid: number, gid: number, stat: (p: string) => { mode: number; uid: number; gid: number } = statSync): string[] {
  const closed: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const s = stat(dir);
    const bit = s.uid === uid ? 0o100 : s.gid === gid ? 0o010 : 0o001;
    if ((s.mode & bit) === 0) closed.push(dir);
    if (dirname(dir) === dir) return closed;
  }
}

export function registerMosquittoConfig(program: Command): void {
  program
    .command('mosquitto-config')
    .description('write mosquitto.conf, acl and passwd equivalent to the embedded broker (from broker.users)')
    .requiredOption('--out <dir>', 'folder to write the files into (mosquitto.db goes to <dir>/data)')
    .option(
      '--autosave-seconds <n>',
      'save the persistence file every n seconds instead of after every change (faster; a crash loses up to n seconds of accepted events)',
      positiveInt,
    )
    .option('--user <name>', `user Mosquitto switches to when started as root (its default: ${MOSQUITTO_USER})`)
    .option(
      '--username-as-client-id',
      "force each client's id to its username, so one device's login cannot take over another bell's session (every server/Slack instance then needs its own login)",
    )
    .action((opts: Options, cmd: Command) => {
      const { config } = setup(cmd);
      const dir = resolve(opts.out);
      const persistence = join(dir, 'data');
      const files = mosquittoFiles({
        broker: config.broker,
        topicPrefix: config.mqtt.topicPrefix,
        dir,
        persistenceDir: persistence,
        autosave: opts.autosaveSeconds ? { onChanges: false, intervalSeconds: opts.autosaveSeconds } : DURABLE_AUTOSAVE,
        user: opts.user,
        usernameAsClientId: opts.usernameAsClientId === true,
      });
      const paths = writeMosquittoFiles(dir, files, persistence);
      for (const path of [paths.conf, paths.acl, paths.passwd]) if (path) print(`wrote ${path}`);
      print(`created ${persistence} (Mosquitto's persistence folder)`);
      giveToMosquitto(opts.user ?? MOSQUITTO_USER, [persistence, paths.passwd, paths.acl].filter((p): p is string => p !== undefined));
      const scheme = config.broker.tls ? 'mqtts' : 'mqtt';
      print(`run: mosquitto -c ${shellQuote(paths.conf)}`);
      print(`then point every part at it: mqtt.url: ${scheme}://<this host>:${config.broker.port}`);
    });
}

function giveToMosquitto(user: string, paths: string[]): void {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // no /etc/passwd to look the user up in: say what to run instead
  }
  const plan = mosquittoOwnership({ uid: process.getuid?.(), passwd, user, paths });
  if ('command' in plan) {
    const exists = passwd.split('\n').some((l) => l.startsWith(`${user}:`));
    const missing = exists ? '' : user === MOSQUITTO_USER ? ' (not here yet: installing Mosquitto creates it)' : ` (there is no such user here)`;
    print(`started as root, Mosquitto switches to the user ${user}${missing}, which cannot write the persistence folder or read passwd unless it owns them; before starting it as root, run: ${plan.command}`);
    return;
  }
  const { uid, gid } = plan.chown;
  for (const path of paths) {
    chownSync(path, uid, gid);
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path, { recursive: true })) chownSync(join(path, entry.toString()), uid, gid);
  }
  print(`gave ${paths.join(', ')} to ${user} (the user Mosquitto switches to when started as root)`);
  const closed = closedAncestors(paths[0]!, uid, gid);
  if (closed.length > 0) print(`warning: ${user} cannot enter ${closed.join(', ')}, so Mosquitto would not reach its files: sudo chmod o+x ${closed.map(shellQuote).join(' ')}, or choose an --out it can reach (e.g. under /etc/mosquitto)`);
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of seconds >= 1');
  return n;
}
