// A lane's back-off counts Slack failing (5xx, network), not Slack rate-limiting: a 429 says
// when to come back (Retry-After), and counted as a failure a spell of them made the next 500
// wait as if Slack had been down all along (a minute, in a real outage, instead of a second).
// The waits are measured between the requests the fake Slack received.
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiCall } from '../fake-slack/server.js';
import { slackWorld, type SlackWorld, waitForSlack } from './helpers.js';

let world: SlackWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const MIN_MS = 100;
/** The wait may be up to a fifth shorter (jitter), and a timer a millisecond early. */
const atLeast = (ms: number) => ms * 0.8 - 2;

function posts(w: SlackWorld): ApiCall[] {
  return w.fake.callsTo('chat.postMessage');
}

function gaps(calls: ApiCall[]): number[] {
  return calls.slice(1).map((c, i) => c.at - calls[i]!.at);
}

async function deliver(w: SlackWorld, id: string): Promise<void> {
  await w.publish({ id, type: 'user.signup', subject: `[${id}]` });
  await waitForSlack(w, () => w.reports.some((r) => r.eventId === id && r.status === 'posted'), `${id} posted`, 15_000);
}

describe("a lane's back-off", () => {
  it('retries a 500 that follows a spell of 429s after about retry.minMs', async () => {
    const w = (world = await slackWorld({ retry: { minMs: MIN_MS, maxMs: 20_000 } }));
    // Counted as failures, these would make the 500's wait 100 ms * 2^8 = 25.6 s (20 s, the ceiling).
    w.fake.failNext('chat.postMessage', { status: 429, retryAfter: 0 }, 8);
    w.fake.failNext('chat.postMessage', { status: 500 });
    await w.startSink();
    await deliver(w, 'limited');
    const calls = posts(w);
    expect(calls.map((c) => c.outcome)).toEqual([...Array<string>(8).fill('HTTP 429'), 'HTTP 500', 'ok']);
    const afterError = gaps(calls)[8]!;
    expect(afterError).toBeGreaterThanOrEqual(atLeast(MIN_MS));
    // Includes the lookup made before the retry (Slack may have taken the post despite the 500).
    expect(afterError).toBeLessThan(MIN_MS + 900);
  });

  it('still doubles its wait while Slack keeps failing, and a 429 in between neither counts nor resets it', async () => {
    const w = (world = await slackWorld({ retry: { minMs: MIN_MS, maxMs: 20_000 } }));
    w.fake.failNext('chat.postMessage', { status: 503 }, 3);
    w.fake.failNext('chat.postMessage', { status: 429, retryAfter: 0 }, 2);
    w.fake.failNext('chat.postMessage', { status: 503 });
    await w.startSink();
    await deliver(w, 'outage');
    const calls = posts(w);
    expect(calls.map((c) => c.outcome)).toEqual(['HTTP 503', 'HTTP 503', 'HTTP 503', 'HTTP 429', 'HTTP 429', 'HTTP 503', 'ok']);
    const waits = gaps(calls);
    // After the 1st, 2nd and 3rd failure: minMs, twice that, four times that.
    for (const [i, n] of [1, 2, 4].entries()) {
      expect(waits[i], `wait ${i + 1}`).toBeGreaterThanOrEqual(atLeast(MIN_MS * n));
      expect(waits[i], `wait ${i + 1}`).toBeLessThan(MIN_MS * n + 900);
    }
    // The 4th failure (after two 429s) waits eight times minMs: the 429s left the count alone.
    expect(waits[5]).toBeGreaterThanOrEqual(atLeast(MIN_MS * 8));
    expect(waits[5]).toBeLessThan(MIN_MS * 8 + 900);
  });
});
