// What the Slack outbox writes, watched at its LevelDB store: the events that arrive together
// are one batch, synced (dataSync: group) before any of them is acknowledged, so the sink
// never acks an MQTT message whose record a power cut could still take.
import { afterEach, describe, expect, it } from 'vitest';
import type { Level } from 'level';
import { toEnvelope } from '../../shared/envelope.js';
import { Outbox, type PostJob } from '../../slack/outbox.js';
import { tempDir } from '../helpers/world.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Batch {
  sync: boolean;
  /** Event ids whose records this batch put. */
  events: string[];
  doneAt: number | undefined;
}

function watch(batches: Batch[]): (db: Level<string, unknown>) => void {
  return (db) => {
    const original = db.batch.bind(db) as (ops: unknown[], opts?: { sync?: boolean }) => Promise<void>;
    (db as unknown as { batch: typeof original }).batch = async (ops, opts) => {
      const events = (ops as Array<{ type: string; key: string; value?: { event?: { id: string } } }>)
        .filter((op) => op.type === 'put' && op.value?.event)
        .map((op) => op.value!.event!.id);
      const entry: Batch = { sync: opts?.sync === true, events, doneAt: undefined };
      batches.push(entry);
      await original(ops, opts);
      entry.doneAt = performance.now();
    };
  };
}

async function openOutbox(sync: boolean, batches: Batch[]): Promise<Outbox> {
  const dir = tempDir();
  const outbox = new Outbox(dir.path, 1000, { sync, watchStore: watch(batches) });
  await outbox.open();
  cleanups.push(() => dir.remove());
  cleanups.push(() => outbox.close());
  return outbox;
}

const postJob = (eventId: string) => (seq: number): PostJob[] => [
  { seq, kind: 'post', eventId, type: 'user.signup', lane: 'channel:#a', target: { kind: 'channel', channel: '#a' }, digest: false },
];

describe("the Slack outbox's writes", () => {
  it('syncs the events that arrive together in one batch before any of them is acknowledged', async () => {
    const batches: Batch[] = [];
    const outbox = await openOutbox(true, batches);
    batches.length = 0;
    const ids = Array.from({ length: 50 }, (_, i) => `together-${i}`);
    const acked = new Map<string, number>();
    await Promise.all(ids.map((id) => outbox.accept(toEnvelope({ type: 'user.signup', id }, { source: 'test' }), postJob(id)).then(() => acked.set(id, performance.now()))));
    const withEvents = batches.filter((b) => b.events.length > 0);
    // Serialised read-modify-writes, grouped writes: far fewer batches than events.
    expect(withEvents.length).toBeLessThanOrEqual(5);
    expect(withEvents.flatMap((b) => b.events).sort()).toEqual([...ids].sort());
    for (const batch of withEvents) {
      expect(batch.sync).toBe(true);
      for (const id of batch.events) expect(acked.get(id)!).toBeGreaterThanOrEqual(batch.doneAt!);
    }
  });

  it('reads a record still on its way to disk, and keeps it after a reopen', async () => {
    const batches: Batch[] = [];
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const outbox = new Outbox(dir.path, 1000, { watchStore: watch(batches) });
    await outbox.open();
    const accepted = outbox.accept(toEnvelope({ type: 'user.signup', id: 'in-flight' }, { source: 'test' }), postJob('in-flight'));
    // The next transaction runs before the first one's group is written, and sees it.
    const seen = outbox.transaction(async (tx) => (await tx.record('in-flight'))?.event.id, { urgent: false });
    expect(await seen).toBe('in-flight');
    await accepted;
    await outbox.close();
    const again = new Outbox(dir.path, 1000);
    const { jobs } = await again.open();
    cleanups.push(() => again.close());
    expect((await again.getRecord('in-flight'))?.event.id).toBe('in-flight');
    expect(jobs.map((j) => (j as PostJob).eventId)).toEqual(['in-flight']);
  });

  it('does not sync with dataSync: none', async () => {
    const batches: Batch[] = [];
    const outbox = await openOutbox(false, batches);
    await outbox.accept(toEnvelope({ type: 'user.signup', id: 'unsynced' }, { source: 'test' }), postJob('unsynced'));
    expect(batches.filter((b) => b.events.length > 0).map((b) => b.sync)).toEqual([false]);
  });
});
