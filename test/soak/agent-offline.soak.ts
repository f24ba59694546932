// Fault run 3: the Pi agent is offline for 60 seconds (its process killed, as by a power
// cut, and started again a minute later) during a stream of signups, one every 3 s.
//
// The catch-up policy (device/catch-up.ts, defaults: policy "once", maxAgeSeconds 30,
// windowSeconds 10): an event older than 30 s when it reaches the bell waited while the
// bell was offline; the whole backlog of those rings once, on its first (oldest) event,
// and the others are reported as `caught-up` with no strike. Events younger than that
// ring as usual. One signup every 3 s keeps the bell under its rate cap (20 strikes a
// minute), so every other event strikes exactly once. The `rang` reports must say just
// that, agree with the strikes the bell made (the simulated GPIO prints each one), and
// agree with Slack: a message shows ":bell: rang office-bell" exactly when the bell rang.
import { afterAll, expect, it } from 'vitest';
import type { RangReport } from '../../shared/messages.js';
import { waitFor } from '../helpers/world.js';
import { classify, sendStream } from './send.js';
import { drain, sightings, tally } from './eye.js';
import { recordFigures } from './figures.js';
import { DEVICE_ID, soakWorld, type SoakWorld } from './world.js';

const EVERY_MS = 3000;
const ONLINE_BEFORE_MS = 12_000;
const OFFLINE_MS = 60_000;
const ONLINE_AFTER_MS = 12_000;
const COUNT = Math.round((ONLINE_BEFORE_MS + OFFLINE_MS + ONLINE_AFTER_MS) / EVERY_MS);
const MAX_AGE_MS = 30_000;
// A report is made after the strike, so its age overstates the age the policy saw by the
// time the bell took to ring what was queued before it: allow that much either way.
const RING_DELAY_MS = 3000;
const ID = /s3-\d{3}/;

let world: SoakWorld | undefined;
afterAll(async () => {
  await world?.close();
});

it('rings the backlog once after 60 s offline, every live signup once, and its rang reports match the strikes and Slack', async () => {
  const w = await soakWorld({ slack: { defaultChannel: '#signups', digest: { threshold: 0 } } });
  world = w;

  const sentAt = new Map<string, number>();
  let offline: Promise<void> | undefined;
  let offlineFor = 0;
  const goOffline = async () => {
    const at = Date.now();
    await w.agent.kill();
    // Sixty seconds without the bell is the fault being injected.
    await new Promise((r) => setTimeout(r, OFFLINE_MS));
    await w.startAgent();
    offlineFor = Date.now() - at;
  };
  const stream = await sendStream({
    url: w.serverUrl,
    count: COUNT,
    senders: 1,
    ratePerSecond: 1000 / EVERY_MS,
    beforeSend: (n) => {
      if (n === ONLINE_BEFORE_MS / EVERY_MS) offline = goOffline();
    },
    event: (n) => {
      const id = `s3-${String(n).padStart(3, '0')}`;
      const time = new Date();
      sentAt.set(id, time.getTime());
      return { type: 'user.signup', id, subject: id, time: time.toISOString() };
    },
  });
  await offline;
  const { accepted } = classify(stream.answers);

  // Every accepted signup gets one report; the strikes it reports are made.
  const reportsOf = (id: string) => dedupe(w.witness.rangs.filter((r) => r.eventId === id && r.deviceId === DEVICE_ID));
  await waitFor(() => accepted.every((id) => reportsOf(id).length > 0), { timeoutMs: 30_000, what: 'a rang report for every signup' }).catch(() => undefined);
  const reports = new Map(accepted.map((id) => [id, reportsOf(id)]));
  const reported = [...reports.values()].flat();
  const struck = reported.reduce((sum, r) => sum + r.strikes, 0);
  await waitFor(() => w.strikes() >= struck, { timeoutMs: 10_000, what: 'the bell to make the strikes it reported' }).catch(() => undefined);

  // What the policy says, event by event, from how old each was when the bell got it.
  const ageOf = (r: RangReport) => Date.parse(r.at) - sentAt.get(r.eventId)!;
  const single = (id: string) => (reports.get(id)?.length === 1 ? reports.get(id)![0] : undefined);
  const young = accepted.filter((id) => single(id) && ageOf(single(id)!) <= MAX_AGE_MS);
  const late = accepted.filter((id) => single(id) && ageOf(single(id)!) > MAX_AGE_MS + RING_DELAY_MS);
  const rang = (id: string) => (single(id)?.strikes ?? 0) > 0 && !single(id)?.suppressed;
  const lateRung = late.filter(rang);
  const lateCaughtUp = late.filter((id) => single(id)?.suppressed === 'caught-up');
  const youngRung = young.filter((id) => single(id)?.strikes === 1 && !single(id)?.suppressed);

  // Slack tells the same story: the ring line on exactly the messages of events that rang.
  await drain(w.fake, ID, accepted, { giveUpQuietMs: 15_000, deadlineMs: 60_000 });
  const showsRing = (id: string) => w.fake.messages.some((m) => m.text.includes(id) && JSON.stringify(m.blocks).includes(`:bell: rang ${DEVICE_ID}`));
  const rangIds = accepted.filter((id) => (reports.get(id) ?? []).some((r) => r.strikes > 0));
  await waitFor(() => rangIds.every(showsRing), { timeoutMs: 15_000, intervalMs: 250, what: 'Slack to show every ring' }).catch(() => undefined);
  const slack = tally(accepted, sightings(w.fake, ID).perId);
  const slackDisagrees = accepted.filter((id) => showsRing(id) !== rangIds.includes(id));
  const missingReports = accepted.filter((id) => reports.get(id)!.length === 0);
  const doubleReports = accepted.filter((id) => reports.get(id)!.length > 1);

  recordFigures('agent-offline', {
    signups: COUNT,
    accepted: accepted.length,
    offlineSeconds: Math.round(offlineFor / 1000),
    rangReports: reported.length,
    reportsMissing: missingReports.length,
    reportsTwice: doubleReports.length,
    liveRung: youngRung.length,
    live: young.length,
    backlog: late.length,
    backlogRung: lateRung.length,
    backlogCaughtUp: lateCaughtUp.length,
    atTheMaxAgeEdge: accepted.length - young.length - late.length - missingReports.length - doubleReports.length,
    strikesReported: struck,
    strikesOnPin: w.strikes(),
    slackOnce: slack.once,
    slackDuplicated: slack.duplicated,
    slackLost: slack.lost,
    slackRingLinesDisagree: slackDisagrees.length,
  });

  const story = () =>
    accepted.map((id) => `${id} +${sentAt.get(id)! - sentAt.get(accepted[0]!)!}ms ${(reports.get(id) ?? []).map((r) => `${r.strikes}${r.suppressed ? `/${r.suppressed}` : ''} age ${ageOf(r)}`).join(',')}`).join('\n') +
    `\n${w.describe()}`;
  expect.soft(accepted.length, 'the server accepted every signup').toBe(COUNT);
  expect.soft({ missing: missingReports, twice: doubleReports }, story()).toEqual({ missing: [], twice: [] });
  expect.soft(late.length, `the offline minute left a backlog older than ${MAX_AGE_MS / 1000} s\n${story()}`).toBeGreaterThan(5);
  // Policy "once": the oldest event of the backlog rings once for all of it, the rest are caught up.
  expect.soft({ rung: lateRung, caughtUp: lateCaughtUp.length }, story()).toEqual({ rung: [late[0]], caughtUp: late.length - 1 });
  expect.soft(youngRung, `every event younger than ${MAX_AGE_MS / 1000} s rings once\n${story()}`).toEqual(young);
  expect.soft(w.strikes(), 'the strikes on the pin are the strikes reported').toBe(struck);
  expect.soft({ lost: slack.lost, duplicated: slack.duplicated, ringLinesDisagree: slackDisagrees }, story()).toEqual({ lost: 0, duplicated: 0, ringLinesDisagree: [] });
});

/** A report the broker hands over twice is one report. */
function dedupe(reports: RangReport[]): RangReport[] {
  return [...new Map(reports.map((r) => [JSON.stringify(r), r])).values()];
}
