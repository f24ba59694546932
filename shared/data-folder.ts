// Opening a LevelDB store in the data folder, with a failure that says which folder, why,
// and what to do: "Database failed to open" alone sends a user to the source code.
import { mkdirSync } from 'node:fs';

interface Openable {
  open(): Promise<void>;
}

export async function openStore(db: Openable, dir: string, what: string): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
    await db.open();
  } catch (err) {
    throw new Error(`cannot open ${what} in ${dir}: ${explain(err, dir)}`, { cause: err });
  }
}

function explain(err: unknown, dir: string): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  const message = cause?.message ?? (err as Error).message;
  if (code === 'LEVEL_LOCKED' || /lock .*(already held|temporarily unavailable)/i.test(message)) {
    return 'another bellhop process holds it (a second `bellhop start`, or `bellhop broker` next to `bellhop start`): stop the other one, or give this one its own folder with BELLHOP_DATA_DIR';
  }
  if (code === 'EACCES' || /permission denied/i.test(message)) {
    return `permission denied: make the folder yours (sudo chown -R "$(id -un)" '${dir}') or point BELLHOP_DATA_DIR at one you own`;
  }
  return message;
}
