import { afterEach, describe, expect, it } from 'vitest';
import { toEnvelope } from '../../shared/envelope.js';
import { Outbox, type PostJob } from '../../slack/outbox.js';
import { tempDir } from '../helpers/world.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openOutbox(dir = tempDir()): Promise<{ outbox: Outbox; dir: ReturnType<typeof tempDir> }> {
  const outbox = new Outbox(dir.path, 100);
  await outbox.open();
  cleanups.push(() => dir.remove());
  cleanups.push(() => outbox.close());
  return { outbox, dir };
}

function postJob(outbox: Outbox, eventId: string): PostJob {
  return { seq: outbox.nextSeq(), kind: 'post', eventId, type: 'user.signup', lane: 'channel:#a', target: { kind: 'channel', channel: '#a' }, digest: false };
}

describe('the Slack outbox', () => {
  it('lets a completion go before the intake waiting in line, not after it', async () => {
    const { outbox } = await openOutbox();
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // One transaction is running (holding the line); three intakes and then a completion wait.
    const running = outbox.transaction(async () => {
      order.push('running');
      await held;
    });
    const intakes = [1, 2, 3].map((n) =>
      outbox.accept(toEnvelope({ type: 'user.signup', id: `in-${n}` }, { source: 'test' }), () => {
        order.push(`intake-${n}`);
        return [];
      }),
    );
    const completion = outbox.transaction(() => void order.push('completion'), { urgent: true });
    const second = outbox.transaction(() => void order.push('completion-2'), { urgent: true });
    release();
    await Promise.all([running, ...intakes, completion, second]);
    expect(order).toEqual(['running', 'completion', 'completion-2', 'intake-1', 'intake-2', 'intake-3']);
  });

  it('still runs one read-modify-write of a record at a time, urgent or not', async () => {
    const { outbox } = await openOutbox();
    const event = toEnvelope({ type: 'user.signup', id: 'counted' }, { source: 'test' });
    await outbox.accept(event, () => []);
    const bumps = Array.from({ length: 40 }, (_, i) =>
      outbox.transaction(
        async (tx) => {
          const rec = (await tx.record('counted'))!;
          // Yield between the read and the write: an interleaved step would lose a bump.
          await new Promise((r) => setImmediate(r));
          rec.rangs.push({ deviceId: `bell-${i}`, at: new Date(0).toISOString(), strikes: 1 });
          tx.putRecord('counted', rec);
        },
        { urgent: i % 2 === 0 },
      ),
    );
    await Promise.all(bumps);
    expect((await outbox.getRecord('counted'))!.rangs).toHaveLength(40);
  });

  it('keeps its id, the attempt marks and the channel ids it learned across a reopen', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const first = new Outbox(dir.path, 100);
    await first.open();
    const event = toEnvelope({ type: 'user.signup', id: 'marked' }, { source: 'test' });
    const [job] = (await first.accept(event, () => [postJob(first, 'marked')])) as PostJob[];
    job!.attempt = { at: 1000, lastAt: 2000, n: 2, to: { postedTo: '#a' } };
    await first.markAttempted(job!);
    await first.transaction((tx) => tx.learnChannel('#a', 'C0000A'), { urgent: true });
    const id = first.id;
    expect(id).toMatch(/^[\w-]{12}$/);
    await first.close();

    const again = new Outbox(dir.path, 100);
    const { jobs } = await again.open();
    cleanups.push(() => again.close());
    expect(again.id).toBe(id);
    expect(jobs).toEqual([expect.objectContaining({ seq: job!.seq, attempt: { at: 1000, lastAt: 2000, n: 2, to: { postedTo: '#a' } } })]);
    expect(again.channelId('#a')).toBe('C0000A');
    expect(again.channelId('#b')).toBeUndefined();
    expect(again.channelId('C0000B')).toBe('C0000B');
  });

  it('forgets the oldest records beyond dedupSize once delivered, at most 500 per new event', async () => {
    const { outbox } = await openOutbox();
    const accept = (id: string) =>
      outbox.accept(toEnvelope({ type: 'user.signup', id }, { source: 'test' }), (seq) => [{ ...postJob(outbox, id), seq }]);
    // 800 events still being delivered (a flood held for a digest): none may be forgotten.
    const jobs = (await Promise.all(Array.from({ length: 800 }, (_, i) => accept(`f${i}`)))).flatMap((j) => j ?? []);
    expect(outbox.knows('f0')).toBe(true);
    await outbox.transaction((tx) => jobs.forEach((j) => tx.deleteJob(j)));
    await accept('next-1');
    expect(outbox.knows('f499')).toBe(false);
    expect(outbox.knows('f500')).toBe(true);
    await accept('next-2');
    // 802 records, the limit 100: 500 went with the first, the rest with the second.
    expect(outbox.knows('f701')).toBe(false);
    expect(outbox.knows('f702')).toBe(true);
    expect(outbox.knows('next-2')).toBe(true);
  });

  it('waits for running and queued writes before it closes', async () => {
    const { outbox } = await openOutbox();
    const event = toEnvelope({ type: 'user.signup', id: 'late' }, { source: 'test' });
    const accepted = outbox.accept(event, () => []);
    const mark = outbox.markAttempted({ ...postJob(outbox, 'late'), attempt: { at: 1, lastAt: 1, n: 1, to: { postedTo: '#a' } } });
    await outbox.close();
    await expect(accepted).resolves.toEqual([]);
    await expect(mark).resolves.toBeUndefined();
    cleanups.pop();
  });
});
