// The broker's ingress log across runs (broker/ingress-log.ts), on a real LevelDB.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Level } from 'level';
import { IngressLog } from '../../broker/ingress-log.js';
import { tempDir } from '../helpers/world.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openDb(): Promise<Level<string, Buffer>> {
  const dir = tempDir();
  const db = new Level<string, Buffer>(dir.path, { valueEncoding: 'buffer' });
  await db.open();
  cleanups.push(() => dir.remove(), () => db.close());
  return db;
}

const entry = (n: number) => ({ topic: `bellhop/events/t/${n}`, payload: Buffer.from(`p${n}`), retain: false, brokerId: 'b', brokerCounter: n });

async function leftovers(log: IngressLog): Promise<string[]> {
  const out: string[] = [];
  for await (const { entry: e } of log.leftovers()) out.push(e.payload.toString());
  return out;
}

describe('the ingress log', () => {
  it('keeps what was added and not removed for the next run, and forgets the removed', async () => {
    const db = await openDb();
    const first = new IngressLog(db);
    await leftovers(first);
    await Promise.all([first.add(entry(1)), first.add(entry(2)), first.add(entry(3))]);
    first.remove(2);
    await first.flush();
    expect(await leftovers(new IngressLog(db))).toEqual(['p1', 'p3']);
  });

  it('finds an earlier run whose clock was ahead, and keeps the order of runs (a Pi has no clock chip)', async () => {
    const db = await openDb();
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 3_600_000);
    const ahead = new IngressLog(db);
    await leftovers(ahead);
    await ahead.add(entry(1));
    await ahead.flush();

    // The next run boots with its clock an hour behind.
    vi.spyOn(Date, 'now').mockReturnValue(now);
    const behind = new IngressLog(db);
    const found: Array<{ key: string }> = [];
    for await (const left of behind.leftovers()) found.push(left);
    expect(found).toHaveLength(1);
    await behind.forget(found.map((f) => f.key));
    await behind.add(entry(2));
    await behind.flush();

    vi.restoreAllMocks();
    const third = new IngressLog(db);
    expect(await leftovers(third)).toEqual(['p2']);
    await third.add(entry(3));
    await third.flush();
    expect(await leftovers(new IngressLog(db))).toEqual(['p2', 'p3']);
  });
});
