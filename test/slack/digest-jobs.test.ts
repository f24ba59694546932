// A flood's digest in the outbox: the digest job replaces its events' post jobs in bounded
// batches, and a start after a stop in between drops the posts a digest already holds, in its
// lane only.
import { afterEach, describe, expect, it } from 'vitest';
import type { Level } from 'level';
import { toEnvelope } from '../../shared/envelope.js';
import { Outbox, type Job, type PostJob } from '../../slack/outbox.js';
import { storeDigest, withoutHeldPosts } from '../../slack/digest-jobs.js';
import { tempDir } from '../helpers/world.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const post = (seq: number, eventId: string, lane = 'channel:#a'): PostJob => ({
  seq,
  kind: 'post',
  eventId,
  type: 'user.signup',
  lane,
  target: { kind: 'channel', channel: lane.slice('channel:'.length) },
  digest: true,
});

describe('a digest in the outbox', () => {
  it('replaces 2,500 held posts in batches of at most about a thousand ops, and leaves only itself', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const sizes: number[] = [];
    const watch = (db: Level<string, unknown>) => {
      const original = db.batch.bind(db) as (ops: unknown[], opts?: { sync?: boolean }) => Promise<void>;
      (db as unknown as { batch: typeof original }).batch = (ops, opts) => {
        sizes.push(ops.length);
        return original(ops, opts);
      };
    };
    const outbox = new Outbox(dir.path, 10_000, { watchStore: watch });
    await outbox.open();
    const held = await Promise.all(
      Array.from({ length: 2500 }, (_, i) => outbox.accept(toEnvelope({ type: 'user.signup', id: `e${i}` }, { source: 'test' }), (seq) => [post(seq, `e${i}`)])),
    ).then((all) => all.flatMap((jobs) => jobs as PostJob[]));
    sizes.length = 0;
    const { digest, rest } = await storeDigest(outbox, { key: 'k', held, total: 2500 });
    await rest;
    expect(digest).toMatchObject({ kind: 'digest', lane: 'channel:#a', total: 2500 });
    expect(digest.eventIds).toHaveLength(2500);
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1001);
    await outbox.close();
    const again = new Outbox(dir.path, 10_000);
    const { jobs } = await again.open();
    cleanups.push(() => again.close());
    expect(jobs.map((j) => j.kind)).toEqual(['digest']);
  });

  it('drops at start the posts a digest holds, but not the same event posted to another channel', () => {
    const digest: Job = { seq: 10, kind: 'digest', lane: 'channel:#a', target: { kind: 'channel', channel: '#a' }, type: 'user.signup', eventIds: ['x', 'y'], total: 2 };
    const jobs: Job[] = [post(1, 'x'), post(2, 'x', 'channel:#b'), post(3, 'z'), digest];
    const { jobs: kept, held } = withoutHeldPosts(jobs);
    expect(held.map((j) => j.seq)).toEqual([1]);
    expect(kept.map((j) => j.seq)).toEqual([2, 3, 10]);
  });
});
