// Fault run 4: the Slack sink (`bellhop slack`, its own process) is killed with SIGKILL
// in the middle of a stream, twice: once started again at once, as systemd would, and
// once after 3 seconds down. No event may be lost and none shown twice.
//
// The stream: 3,000 events at 200 a second from four senders, over 100 channels by a
// data field, digests over 5-second windows (about 10 events a window per channel, all
// listed). At each kill the sink has events in every state: in the MQTT session not yet
// acknowledged, in the outbox waiting for their channel, held for a digest, and posts in
// flight to Slack.
import { afterAll, expect, it } from 'vitest';
import { classify, sendStream } from './send.js';
import { drain, sightings, tally } from './eye.js';
import { recordFigures } from './figures.js';
import { soakWorld, type SoakWorld } from './world.js';

const COUNT = 3000;
const RATE = 200;
const CHANNELS = 100;
const ID = /s4-\d{4}/;
const KILLS = [
  { atEvent: 1000, downMs: 0 },
  { atEvent: 2000, downMs: 3000 },
];

let world: SoakWorld | undefined;
afterAll(async () => {
  await world?.close();
});

it('loses nothing and shows nothing twice when the Slack sink is killed mid-stream and restarted', async () => {
  const w = await soakWorld({
    agent: false,
    slack: {
      routes: [{ match: {}, channel: '#sink-{data.ch}' }],
      digest: { threshold: 5, windowMs: 5000, maxListed: 45 },
    },
  });
  world = w;

  const restarts: number[] = [];
  const kills: Array<Promise<void>> = [];
  const kill = async (downMs: number) => {
    const at = Date.now();
    await w.sink.kill('SIGKILL');
    // How long the sink stays dead is the fault being injected.
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await w.sink.start();
    restarts.push(Date.now() - at);
  };
  const stream = await sendStream({
    url: w.serverUrl,
    count: COUNT,
    senders: 4,
    ratePerSecond: RATE,
    beforeSend: (n) => {
      for (const k of KILLS) if (n === k.atEvent) kills.push(kill(k.downMs));
    },
    event: (n) => {
      const id = `s4-${String(n).padStart(4, '0')}`;
      return { type: 'user.signup', id, subject: id, data: { ch: String(n % CHANNELS).padStart(2, '0') } };
    },
  });
  await Promise.all(kills);
  const { accepted, refused, other } = classify(stream.answers);
  const drained = await drain(w.fake, ID, accepted, { giveUpQuietMs: 10_000, deadlineMs: 90_000 });

  const seen = sightings(w.fake, ID);
  const slack = tally(accepted, seen.perId);
  recordFigures('sink-kill', {
    sent: stream.answers.length,
    accepted: accepted.length,
    refused: refused.length + other.length,
    kills: KILLS.length,
    sinkBackAfterMs: restarts.join('+'),
    acceptedAtBroker: accepted.filter((id) => w.witness.saw(id)).length,
    slackOnce: slack.once,
    slackDuplicated: slack.duplicated,
    slackLost: slack.lost,
    slackMessages: seen.messages,
    drainSeconds: Math.round(drained.ms / 100) / 10,
  });

  expect.soft(accepted.length, 'the server accepts everything while the sink is down').toBe(COUNT);
  expect.soft(seen.truncatedDigests, 'no digest hides events behind "…and N more"').toBe(0);
  expect.soft({ lost: slack.lost, duplicated: slack.duplicated }, `lost ${slack.examples.lost.join(' ')}; twice ${slack.examples.duplicated.join(' ')}\n${w.describe()}`).toEqual({
    lost: 0,
    duplicated: 0,
  });
});
