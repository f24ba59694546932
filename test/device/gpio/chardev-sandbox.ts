// A machine with only the GPIO character device, for the built CLI: a private mount
// namespace (`unshare -m`) with a tmpfs over /sys/class (so no /sys/class/gpio) and a
// fresh /dev holding the pseudo devices Node needs plus one node per fake chip, the
// way systemd's PrivateDevices=yes with BindPaths= builds the agent's /dev. The chips
// answer through the fake libgpiod tools (fake-libgpiod.ts) with FAKE_GPIO_DEV=/dev.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { tempDir, waitFor } from '../../helpers/world.js';
import { endNamespace, nodeInside, type InsideProcess } from '../../helpers/sysfs-gpio.js';

const SETUP = `
set -eu
old=$1; shift
mount -t tmpfs -o mode=0755 bellhop-test-sysfs /sys/class
mount --bind /dev "$old"
mount -t tmpfs -o mode=0755 bellhop-test-dev /dev
for n in null zero full random urandom tty; do touch /dev/$n; mount --bind "$old/$n" /dev/$n; done
mkdir /dev/pts /dev/shm
mount --bind "$old/pts" /dev/pts
mount --bind "$old/shm" /dev/shm
ln -s /proc/self/fd /dev/fd
for chip in "$@"; do touch /dev/$chip; chmod 0660 /dev/$chip; done
echo ready
exec sleep infinity
`;

/** Why the sandbox cannot be built here, or undefined when it can. */
export function chardevSandboxUnavailable(): string | undefined {
  for (const tool of ['unshare', 'nsenter', 'mount']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs bellhop-probe /dev && mount -t tmpfs bellhop-probe /sys/class'], { encoding: 'utf8' });
  if (probe.status !== 0) return `cannot make a private mount namespace with its own /dev and /sys/class (needs root or CAP_SYS_ADMIN): ${probe.stderr.trim() || `exit ${probe.status}`}`;
  return undefined;
}

export class ChardevSandbox {
  readonly pid: number;
  #holder: ChildProcessWithoutNullStreams;
  #remove: () => void;
  #inside = new Set<ChildProcessWithoutNullStreams>();

  private constructor(holder: ChildProcessWithoutNullStreams, remove: () => void) {
    this.#holder = holder;
    this.pid = holder.pid!;
    this.#remove = remove;
  }

  static async start(chips: readonly string[]): Promise<ChardevSandbox> {
    const dir = tempDir('bellhop-chardev-');
    // Its own process group, so stop() ends the shell and its sleep together.
    const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', SETUP, 'sh', dir.path, ...chips], { detached: true, stdio: 'pipe' });
    const sandbox = new ChardevSandbox(holder, dir.remove);
    let out = '';
    let err = '';
    holder.stdout.on('data', (d: Buffer) => (out += d.toString()));
    holder.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(
      () => {
        if (holder.exitCode !== null) throw new Error(`the sandbox exited (${holder.exitCode}): ${err}`);
        return out.includes('ready');
      },
      { what: 'the character-device sandbox' },
    );
    return sandbox;
  }

  /** Runs `node <args>` inside, where /dev has only the fake chips and /sys/class/gpio is gone. */
  node(args: string[], env: Record<string, string>): InsideProcess {
    return nodeInside(this.pid, args, env, this.#inside);
  }

  async stop(): Promise<void> {
    await endNamespace(this.#holder, this.pid, this.#inside);
    this.#remove();
  }
}
