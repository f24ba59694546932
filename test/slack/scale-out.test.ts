import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackSink } from '../../slack/sink.js';
import { WebSlackApi, createWebClient } from '../../slack/api.js';
import { parseConfig } from '../../shared/config/load.js';
import { BOT_TOKEN } from '../fake-slack/server.js';
import { silentLogger, tempDir, waitFor } from '../helpers/world.js';
import { blockText, slackWorld, type SlackWorld } from './helpers.js';

// Shared subscriptions exist on Mosquitto (and EMQX, HiveMQ), not on the embedded aedes,
// so this runs in the Mosquitto project of the suite only.
const onMosquitto = process.env.BELLHOP_TEST_BROKER === 'mosquitto';

describe('several Slack sinks sharing the work ($share subscriptions)', () => {
  let world: SlackWorld;
  const sinks: SlackSink[] = [];

  beforeAll(async () => {
    if (!onMosquitto) return;
    world = await slackWorld({ limiter: { intervalMs: 1, burst: 100 } });
    for (const n of [1, 2]) {
      const config = parseConfig({
        ...world.config,
        dataDir: tempDir().path,
        slack: { ...world.config.slack, shareGroup: 'sinks', mqttClientId: `bellhop-slack-${n}` },
      });
      const api = new WebSlackApi(createWebClient({ token: BOT_TOKEN, apiUrl: world.fake.apiUrl, timeoutMs: 10_000, logger: silentLogger() }));
      const sink = new SlackSink({ config, api, logger: silentLogger() });
      const subscribed = new Promise<void>((resolve) => sink.once('subscribed', resolve));
      await sink.start();
      await subscribed;
      sinks.push(sink);
    }
  });
  afterAll(async () => {
    for (const s of sinks) await s.stop();
    await world?.close();
  });

  const timesPosted = (needle: string) => world.fake.messages.filter((m) => `${m.text} ${blockText(m.blocks)}`.includes(needle)).length;

  it.runIf(onMosquitto)('posts every event exactly once, whichever sink takes it, and both take some', async () => {
    const emails = Array.from({ length: 40 }, (_, i) => `share-${i}@example.com`);
    const taken = new Map<SlackSink, number>(sinks.map((s) => [s, 0]));
    for (const s of sinks) s.on('report', (r) => r.status === 'posted' && taken.set(s, taken.get(s)! + 1));
    for (const [i, email] of emails.entries()) await world.publish({ id: `share-${i}`, type: 'user.signup', data: { email } });
    await waitFor(() => emails.every((e) => timesPosted(e) >= 1), { what: 'every event posted' });
    expect(emails.filter((e) => timesPosted(e) !== 1)).toEqual([]);
    expect([...taken.values()].every((n) => n > 0)).toBe(true);
  });

  it('is refused with the embedded broker, which has no shared subscriptions', () => {
    expect(() => parseConfig({ slack: { shareGroup: 'sinks' } })).toThrow(/^slack\.shareGroup: shared subscriptions need an external broker/);
  });
});
