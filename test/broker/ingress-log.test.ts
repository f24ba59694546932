// The broker's ingress log across runs (broker/ingress-log.ts), on a real LevelDB.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Level } from 'level';
import { IngressLog, type Leftover } from '../../broker/ingress-log.js';
import { GroupCommit } from '../../broker/group-commit.js';
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

function logOn(db: Level<string, Buffer>): { log: IngressLog; writer: GroupCommit } {
  const writer = new GroupCommit(db, { sync: false, onError: (err) => { throw err; } });
  return { log: new IngressLog(db, writer), writer };
}

const entry = (n: number) => ({ topic: `bellhop/events/t/${n}`, payload: Buffer.from(`p${n}`), retain: false, brokerId: 'b', brokerCounter: n });

async function leftovers(log: IngressLog): Promise<Leftover[]> {
  const out: Leftover[] = [];
  for await (const left of log.leftovers()) out.push(left);
  return out;
}
const payloads = (lefts: Leftover[]) => lefts.map((l) => l.entry.payload.toString());

describe('the ingress log', () => {
  it('keeps what was added and not removed for the next run, and forgets the removed', async () => {
    const db = await openDb();
    const { log: first, writer } = logOn(db);
    await leftovers(first);
    await Promise.all([first.add(entry(1)), first.add(entry(2)), first.add(entry(3))]);
    first.remove(first.keyOf(2), false);
    await writer.flush();
    expect(payloads(await leftovers(logOn(db).log))).toEqual(['p1', 'p3']);
  });

  it('hands the next run who still owed an entry, and forgets the note with the entry', async () => {
    const db = await openDb();
    const { log, writer } = logOn(db);
    await leftovers(log);
    await Promise.all([log.add(entry(1)), log.add(entry(2))]);
    log.noteOwed(log.keyOf(1), ['bell-1']);
    log.noteOwed(log.keyOf(2), ['bell-1', 'slack']);
    log.remove(log.keyOf(2), true);
    await writer.flush();
    const next = await leftovers(logOn(db).log);
    expect(next.map((l) => [l.entry.payload.toString(), l.owed])).toEqual([['p1', ['bell-1']]]);
  });

  it('finds an earlier run whose clock was ahead, and keeps the order of runs (a Pi has no clock chip)', async () => {
    const db = await openDb();
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 3_600_000);
    const ahead = logOn(db);
    await leftovers(ahead.log);
    await ahead.log.add(entry(1));
    await ahead.writer.flush();

    // The next run boots with its clock an hour behind.
    vi.spyOn(Date, 'now').mockReturnValue(now);
    const behind = logOn(db);
    const found = await leftovers(behind.log);
    expect(found).toHaveLength(1);
    for (const f of found) behind.log.remove(f.key, false);
    await behind.log.add(entry(2));
    await behind.writer.flush();

    vi.restoreAllMocks();
    const third = logOn(db);
    expect(payloads(await leftovers(third.log))).toEqual(['p2']);
    await third.log.add(entry(3));
    await third.writer.flush();
    expect(payloads(await leftovers(logOn(db).log))).toEqual(['p2', 'p3']);
  });
});
