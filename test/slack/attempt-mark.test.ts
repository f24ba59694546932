// The attempt mark is the outbox write, right before each chat.postMessage, that lets a restart
// know to look for a post in Slack before sending it again; the answer mark, right after it,
// saves Slack's answer so a restart records the post without looking. These tests make those
// writes (and the one recording the post) fail through the sink's createOutbox option, as a
// failing disk would, and check what is posted, reported and logged.
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type Job, type Tx } from '../../slack/outbox.js';
import type { SlackSink } from '../../slack/sink.js';
import { captureLogger } from '../helpers/world.js';
import { ALL_SCOPES } from '../fake-slack/server.js';
import { lookupCalls, slackWorld, timesPosted, type SlackWorld, waitForSlack } from './helpers.js';

let world: SlackWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** An outbox on a disk that fails the writes a test asks it to. */
class FailingOutbox extends Outbox {
  /** Event ids whose attempt marks fail. */
  readonly failMarksOf = new Set<string>();
  /** Event ids whose answer marks (Slack's answer saved on the job) fail. */
  readonly failAnswersOf = new Set<string>();
  /** The next recording of an outcome (an urgent transaction) fails. */
  failNextRecord = false;

  override async markAttempted(job: Job): Promise<void> {
    if (job.kind === 'post' && this.failMarksOf.has(job.eventId)) throw new Error('disk full');
    return super.markAttempted(job);
  }

  override async markPosted(job: Job): Promise<void> {
    if (job.kind === 'post' && this.failAnswersOf.has(job.eventId)) throw new Error('disk full');
    return super.markPosted(job);
  }

  override transaction<T>(fn: (tx: Tx) => Promise<T> | T, opts: { urgent?: boolean } = {}): Promise<T> {
    if (opts.urgent && this.failNextRecord) {
      this.failNextRecord = false;
      return Promise.reject(new Error('disk full'));
    }
    return super.transaction(fn, opts);
  }
}

async function failingSink(w: SlackWorld): Promise<{ sink: SlackSink; outbox: FailingOutbox; lines: () => Array<Record<string, unknown>> }> {
  const { logger, lines } = captureLogger('info');
  let outbox: FailingOutbox | undefined;
  const sink = await w.startSink({ logger, createOutbox: (dir, size) => (outbox = new FailingOutbox(dir, size)) });
  return { sink, outbox: outbox!, lines };
}

function statuses(w: SlackWorld, eventId: string): string[] {
  return w.reports.filter((r) => r.eventId === eventId).map((r) => r.status);
}

function errors(lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return lines.filter((l) => l.level === 50);
}

async function publish(w: SlackWorld, id: string): Promise<void> {
  await w.publish({ id, type: 'user.signup', subject: `[${id}]` });
}

describe('an attempt mark that cannot be saved', () => {
  it('is logged, and the post is sent anyway and recorded as usual', async () => {
    const w = (world = await slackWorld());
    const { outbox, lines } = await failingSink(w);
    outbox.failMarksOf.add('unmarked');
    await publish(w, 'unmarked');
    await waitForSlack(w, () => statuses(w, 'unmarked').includes('posted'), 'the post');
    expect(timesPosted(w.fake, '[unmarked]')).toBe(1);
    expect(errors(lines())).toEqual([expect.objectContaining({ msg: 'could not save the attempt in the outbox; posting anyway', eventIds: ['unmarked'], err: 'disk full' })]);
    await waitForSlack(w, () => w.sinkPending() === 0, 'an empty outbox');

    // The channel goes on: the next post (whose mark is saved) goes out as usual.
    await publish(w, 'next');
    await waitForSlack(w, () => statuses(w, 'next').includes('posted'), 'the next post');
    expect(timesPosted(w.fake, '[next]')).toBe(1);
  });

  it('still has the retry look first after a lost answer: the attempt is kept in memory too', async () => {
    const w = (world = await slackWorld());
    const { outbox } = await failingSink(w);
    outbox.failMarksOf.add('lost');
    let lost = false;
    w.fake.afterPost = (m) => {
      if (lost || !m.text.includes('[lost]')) return;
      lost = true;
      return { status: 500 };
    };
    await publish(w, 'lost');
    await waitForSlack(w, () => statuses(w, 'lost').includes('posted'), 'the post settled');
    expect(timesPosted(w.fake, '[lost]')).toBe(1);
    expect(statuses(w, 'lost')).toEqual(['retrying', 'posted']);
    expect(lookupCalls(w.fake).map((c) => c.outcome)).toEqual(['ok']);
  });
});

describe('a post Slack took that the outbox could not record', () => {
  async function recordFails(
    markFails: boolean,
    { answerSaved = false, scopes = ALL_SCOPES }: { answerSaved?: boolean; scopes?: string[] } = {},
  ): Promise<{ w: SlackWorld; lines: () => Array<Record<string, unknown>> }> {
    const w = (world = await slackWorld({}, { scopes }));
    const { sink, outbox, lines } = await failingSink(w);
    if (markFails) outbox.failMarksOf.add('unrecorded');
    // The disk fails again just as Slack answers, so the recording of the post fails too (and,
    // unless the answer is saved, the answer mark before it).
    w.fake.afterPost = (m) => {
      if (!m.text.includes('[unrecorded]')) return;
      outbox.failNextRecord = true;
      if (!answerSaved) outbox.failAnswersOf.add('unrecorded');
    };
    await publish(w, 'unrecorded');
    await waitForSlack(w, () => errors(lines()).some((l) => String(l.msg).startsWith('Slack took the message but the outbox could not record it')), 'the failed recording');
    expect(timesPosted(w.fake, '[unrecorded]')).toBe(1);
    // Still in the outbox: the restart picks it up.
    expect(w.sinkPending()).toBe(1);
    w.fake.afterPost = undefined;
    await sink.stop();
    await w.startSink();
    return { w, lines };
  }

  it('is found in Slack after a restart and not posted again, when its attempt was saved', async () => {
    const { w, lines } = await recordFails(false);
    await waitForSlack(w, () => w.sinkPending() === 0, 'the restarted sink to settle the job');
    expect(timesPosted(w.fake, '[unrecorded]')).toBe(1);
    expect(lookupCalls(w.fake).map((c) => c.outcome)).toEqual(['ok']);
    expect(statuses(w, 'unrecorded')).toEqual(['posted']);
    expect(errors(lines()).map((l) => l.msg)).toEqual(['Slack took the message but the outbox could not record it; after a restart it is looked for in Slack before being posted again']);
  });

  it('is posted again after a restart when its attempt was not saved either (at-least-once), and the log says so', async () => {
    const { w, lines } = await recordFails(true);
    await waitForSlack(w, () => w.sinkPending() === 0, 'the restarted sink to settle the job');
    expect(timesPosted(w.fake, '[unrecorded]')).toBe(2);
    expect(statuses(w, 'unrecorded')).toEqual(['posted']);
    // No attempt on disk, so nothing told the restarted sink to look.
    expect(lookupCalls(w.fake)).toHaveLength(0);
    expect(errors(lines()).map((l) => l.msg)).toEqual([
      'could not save the attempt in the outbox; posting anyway',
      expect.stringMatching(/could not record it.*posted again.*may show twice/) as unknown,
    ]);
  });

  for (const [name, markFails] of [
    ['its attempt was saved', false],
    ['its attempt was not saved', true],
  ] as const) {
    it(`is recorded from the saved answer after a restart, without a lookup, even where history is unreadable (${name})`, async () => {
      const { w, lines } = await recordFails(markFails, { answerSaved: true, scopes: ALL_SCOPES.filter((s) => s !== 'channels:history') });
      await waitForSlack(w, () => w.sinkPending() === 0, 'the restarted sink to settle the job');
      expect(timesPosted(w.fake, '[unrecorded]')).toBe(1);
      expect(statuses(w, 'unrecorded')).toEqual(['posted']);
      expect(lookupCalls(w.fake)).toHaveLength(0);
      expect(w.reports.find((r) => r.status === 'posted')).toMatchObject({ channel: w.fake.posts('#events')[0]!.channel, ts: w.fake.posts('#events')[0]!.ts });
      expect(errors(lines()).map((l) => l.msg).at(-1)).toBe(
        "Slack took the message but the outbox could not record it; Slack's answer is saved on the job, so after a restart it is recorded as posted without being posted again",
      );
    });
  }
});
