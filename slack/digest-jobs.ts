// A digest job takes the place of the post jobs of the events it holds. It is written with
// the first DELETE_CHUNK of those posts' deletes; the rest go DELETE_CHUNK per transaction,
// so the digest of a flood (tens of thousands of events) is never one batch that holds the
// event loop for half a second. A restart in between finds posts that a digest already
// holds: withoutHeldPosts drops them.
import type { DigestBatch } from './digest.js';
import type { DigestJob, Job, Outbox, PostJob } from './outbox.js';

const DELETE_CHUNK = 1000;

/** Stores the digest; `rest` settles once every held post's job is gone from the outbox. */
export async function storeDigest(outbox: Outbox, batch: DigestBatch<PostJob>): Promise<{ digest: DigestJob; rest: Promise<void> }> {
  const first = batch.held[0]!;
  const digest = await outbox.transaction((tx) => {
    const job: DigestJob = { seq: outbox.nextSeq(), kind: 'digest', lane: first.lane, target: first.target, type: first.type, eventIds: batch.held.map((j) => j.eventId), total: batch.total };
    tx.putJob(job);
    for (const held of batch.held.slice(0, DELETE_CHUNK)) tx.deleteJob(held);
    return job;
  });
  const rest = (async () => {
    for (let i = DELETE_CHUNK; i < batch.held.length; i += DELETE_CHUNK) {
      const chunk = batch.held.slice(i, i + DELETE_CHUNK);
      await outbox.transaction((tx) => chunk.forEach((held) => tx.deleteJob(held)));
    }
  })();
  return { digest, rest };
}

/** The jobs left in the outbox but the posts of events that a digest job holds, and those posts. */
export function withoutHeldPosts(jobs: Job[]): { jobs: Job[]; held: Job[] } {
  // Per lane: an event routed to two channels has a post in each, and a digest holds one.
  const key = (lane: string, eventId: string) => `${lane}\u0000${eventId}`;
  const inDigests = new Set(jobs.flatMap((j) => (j.kind === 'digest' ? j.eventIds.map((id) => key(j.lane, id)) : [])));
  if (inDigests.size === 0) return { jobs, held: [] };
  const isHeld = (j: Job) => j.kind === 'post' && inDigests.has(key(j.lane, j.eventId));
  return { jobs: jobs.filter((j) => !isHeld(j)), held: jobs.filter(isHeld) };
}
