// Fault run 2: Slack answers 429 (Retry-After: 3) and 500, in turns of 5 seconds, for
// 30 seconds in the middle of a stream, then recovers. Everything must be delivered, in
// order per channel, none twice.
//
// The stream: 10 events a second for 50 seconds from one sender (so "sent before" is
// well defined), to five channels by a data field with digests over 10-second windows,
// plus a sixth channel whose route opts out of digests and gets one event every two
// seconds: its 15 or so held-up events are posted one by one after the outage, at the
// channel's pace, and their order is checked message by message. The sink keeps its
// real limiter (one post a second per channel, bursts of 3); its longest back-off is
// set to 10 s (the default is 60 s) so the run stays short.
import { afterAll, expect, it } from 'vitest';
import type { Fault } from '../fake-slack/server.js';
import { classify, sendStream } from './send.js';
import { drain, outOfOrder, sightings, tally } from './eye.js';
import { recordFigures } from './figures.js';
import { soakWorld, type SoakWorld } from './world.js';
import { waitFor } from '../helpers/world.js';

const RATE = 10;
const COUNT = 500;
const OUTAGE_STARTS_AT_EVENT = 100;
const OUTAGE_MS = 30_000;
const TURN_MS = 5000;
const ID = /s2-\d{4}/;

let world: SoakWorld | undefined;
afterAll(async () => {
  world?.fake.outage(undefined);
  await world?.close();
});

it('delivers everything in order per channel and nothing twice after Slack answered 429 and 500 for 30 s', async () => {
  const w = await soakWorld({
    agent: false,
    slack: {
      routes: [
        { match: { data: { ch: 'alerts' } }, channel: '#outage-alerts', digest: false },
        { match: {}, channel: '#outage-{data.ch}' },
      ],
      digest: { threshold: 5, windowMs: 10_000, maxListed: 45 },
      retry: { minMs: 1000, maxMs: 10_000 },
    },
  });
  world = w;

  let outageEnded = 0;
  let backlogClearedMs = Number.NaN;
  let lastSent = -1;
  let outage: Promise<void> | undefined;
  const faults: Fault[] = [{ status: 429, retryAfter: 3 }, { status: 500 }];
  const runOutage = async () => {
    // Slack's side of the fault: turns of 429 and 500 until the outage is over.
    for (let t = 0; t < OUTAGE_MS; t += TURN_MS) {
      w.fake.outage(faults[(t / TURN_MS) % faults.length]);
      await new Promise((r) => setTimeout(r, TURN_MS));
    }
    w.fake.outage(undefined);
    outageEnded = Date.now();
    // The backlog: everything sent before Slack recovered. How long until all of it shows?
    const backlog = Array.from({ length: lastSent + 1 }, (_, n) => idFor(n));
    await waitFor(() => backlog.every((id) => sightings(w.fake, ID).perId.has(id)), { timeoutMs: 60_000, intervalMs: 250, what: 'the backlog' })
      .then(() => (backlogClearedMs = Date.now() - outageEnded))
      .catch(() => undefined);
  };
  const stream = await sendStream({
    url: w.serverUrl,
    count: COUNT,
    senders: 1,
    ratePerSecond: RATE,
    beforeSend: (n) => {
      lastSent = n;
      if (n === OUTAGE_STARTS_AT_EVENT) outage = runOutage();
    },
    event: (n) => ({ type: 'user.signup', id: idFor(n), subject: idFor(n), data: { ch: n % 20 === 0 ? 'alerts' : `c${n % 5}` } }),
  });
  const { accepted, other, refused } = classify(stream.answers);
  const drained = await drain(w.fake, ID, accepted, { giveUpQuietMs: 25_000, deadlineMs: 90_000 });
  await outage;

  const seen = sightings(w.fake, ID);
  const slack = tally(accepted, seen.perId);
  const sentOrder = new Map(stream.answers.map((a, n) => [a.id, n]));
  const disorder = outOfOrder(seen.perChannel, sentOrder);
  const outcomes = (prefix: string) => w.fake.calls.filter((c) => c.outcome.startsWith(prefix)).length;
  const alerts = w.fake.posts('#outage-alerts');

  recordFigures('slack-outage', {
    sent: stream.answers.length,
    accepted: accepted.length,
    refused: refused.length + other.length,
    answered429: outcomes('HTTP 429'),
    answered500: outcomes('HTTP 500'),
    slackOnce: slack.once,
    slackDuplicated: slack.duplicated,
    slackLost: slack.lost,
    outOfOrder: disorder,
    channels: seen.perChannel.size,
    slackMessages: seen.messages,
    undigestedPosts: alerts.length,
    backlogShownSecondsAfterRecovery: round(backlogClearedMs / 1000),
    lastShownSecondsAfterStream: round(drained.ms / 1000),
  });

  expect.soft(accepted.length, 'Slack failing never makes the server refuse events').toBe(COUNT);
  expect.soft(outcomes('HTTP 429') > 0 && outcomes('HTTP 500') > 0, 'both faults were answered').toBe(true);
  expect.soft(seen.truncatedDigests, 'no digest hides events behind "…and N more"').toBe(0);
  expect.soft({ lost: slack.lost, duplicated: slack.duplicated, outOfOrder: disorder }, `lost ${slack.examples.lost.join(' ')}; twice ${slack.examples.duplicated.join(' ')}\n${w.describe()}`).toEqual({
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
  });
});

const idFor = (n: number) => `s2-${String(n).padStart(4, '0')}`;
const round = (n: number) => Math.round(n * 10) / 10;
