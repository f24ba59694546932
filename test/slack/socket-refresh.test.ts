// A Socket Mode refresh as Slack does it: a `disconnect` with reason `warning`, then
// `refresh_requested`, then Slack closes the old connection itself. The app opens the new
// connection while the old one still serves and closes the old one after the new one's hello,
// so a command Slack sends at any moment of the refresh finds a connection (Slack fails a
// command at once when the app has none: `queue: false`), and is acked and answered once.
// Also against a real Mosquitto (BELLHOP_TEST_BROKER=mosquitto, see vitest.config.ts).
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeSlack, SlashCommand } from '../fake-slack/server.js';
import { captureLogger, waitFor } from '../helpers/world.js';
import { bell, cleanUp, knows, world } from './socket-helpers.js';

afterEach(cleanUp);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `/ding status` about every millisecond until stop(), each failing at once if no connection takes it. */
function commandStream(fake: FakeSlack): { stop: () => Promise<PromiseSettledResult<SlashCommand>[]> } {
  const sent: Array<Promise<SlashCommand>> = [];
  let sending = true;
  const loop = (async () => {
    while (sending) {
      const cmd = fake.slashCommand({ text: 'status' }, { queue: false, timeoutMs: 3000 });
      // Failures are counted at the end, not reported as unhandled on the way.
      cmd.catch(() => undefined);
      sent.push(cmd);
      await sleep(1);
    }
  })();
  return {
    stop: async () => {
      sending = false;
      await loop;
      return Promise.allSettled(sent);
    },
  };
}

describe('a Socket Mode refresh', () => {
  for (const [name, refresh] of [
    ['a warning, then refresh_requested', { warningMs: 150, closeMs: 500 }],
    ['refresh_requested alone', { closeMs: 500 }],
  ] as const) {
    it(`leaves no moment without a connection (${name}): every command sent through it is acked once`, async () => {
      const { logger, lines } = captureLogger('info');
      const { fake, app } = await world({}, { logger });
      const stream = commandStream(fake);
      await sleep(30);
      fake.refresh(refresh);
      await waitFor(() => app.connections === 2 && fake.openSockets === 1, { what: 'the new connection, and the old one closed' });
      // On past the moment Slack would have cut the old connection itself.
      await sleep(('warningMs' in refresh ? refresh.warningMs : 0) + refresh.closeMs + 50);
      const results = await stream.stop();

      const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
      expect(failed).toEqual([]);
      const ids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.envelopeId] : []));
      expect(ids.length).toBeGreaterThan(30);
      for (const id of ids) {
        expect(fake.acks.get(id), id).toHaveLength(1);
        expect(String(fake.acks.get(id)![0]!.text), id).toMatch(/bell/i);
        expect(fake.answers.get(id), id).toBeUndefined();
      }
      // Both connections carried commands: the old one until the new one's hello, then the new one.
      const on = ids.map((id) => fake.sentOn.get(id));
      expect(new Set(on)).toEqual(new Set([1, 2]));
      expect(on.indexOf(2)).toBe(on.lastIndexOf(1) + 1);
      expect(fake.socketsOpened).toBe(2);
      expect(app.connected).toBe(true);
      const reason = 'warningMs' in refresh ? 'warning' : 'refresh_requested';
      expect(lines().filter((l) => String(l.msg).startsWith('Socket Mode: Slack asked for a new connection')).map((l) => l.reason)).toEqual([reason]);
      // The state never left `connected`: /readyz saw no gap either.
      expect(lines().filter((l) => l.socketMode === 'reconnecting')).toEqual([]);
    });
  }

  it('handles an envelope Slack sends twice once, and acks both with the same answer', async () => {
    const { fake, config } = await world();
    await bell(config);
    await knows(fake, 'office-bell', 'online');
    const cmd = await fake.slashCommand({ text: 'office-bell' }, { repeat: 2 });
    await waitFor(() => fake.acks.get(cmd.envelopeId)?.length === 2, { what: 'the second ack' });
    expect(fake.acks.get(cmd.envelopeId)).toEqual([cmd.ack, cmd.ack]);
    expect(String(cmd.ack.text)).toContain('Ringing *office-bell*');
    await fake.waitForAnswer(cmd.envelopeId);
    await sleep(200);
    expect(fake.answers.get(cmd.envelopeId)).toHaveLength(1);
  });

  it('reconnects when Slack cuts the old connection before the new one says hello', async () => {
    const { fake, app } = await world({ socket: { reconnectMs: 20, pingTimeoutMs: 1000, connectTimeoutMs: 300 } });
    fake.sendHello = false;
    fake.refresh({ closeMs: 30 });
    await waitFor(() => app.state === 'reconnecting', { what: 'the old connection gone, the new one silent' });
    fake.sendHello = true;
    await waitFor(() => app.connected, { what: 'a connection with a hello' });
    const { ack } = await fake.slashCommand({ text: 'status' }, { queue: false });
    expect(String(ack.text)).toMatch(/bell/i);
    await waitFor(() => fake.openSockets === 1, { what: 'only the new connection left open' });
  });
});
