// One event followed by its id across the server and the bell at debug, and no line for it at
// info: a line per event per part is what the default deployment could least afford.
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, postEvents, startAgent, startBroker, startServer, testConfig, withBroker } from '../helpers/world.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function ringOnce(level: string, id: string) {
  const base = testConfig({ device: { bell: { pulseMs: 5, gapMs: 5, minGapMs: 5 } } });
  const broker = await startBroker(base);
  cleanups.push(() => broker.stop());
  const config = withBroker(base, broker.url);
  const log = captureLogger(level);
  const server = await startServer(config, log.logger);
  cleanups.push(() => server.stop());
  const { agent, driver } = await startAgent(config, undefined, log.logger);
  cleanups.push(() => agent.stop());
  // Emitted after the bell's line would be written.
  const rang = new Promise((resolve) => agent.once('rang', resolve));
  expect((await postEvents(server.url, { type: 'user.signup', id })).status).toBe(202);
  await rang;
  expect(driver.pulses()).toHaveLength(1);
  return log.lines();
}

describe('the per-event log lines', () => {
  it('follow one event by its id from the server to the bell at debug', async () => {
    const lines = await ringOnce('debug', 'trail-1');
    const trail = lines.filter((l) => l.eventId === 'trail-1');
    expect(trail.find((l) => l.msg === 'event accepted')).toMatchObject({ level: 20, type: 'user.signup' });
    expect(trail.find((l) => l.msg === 'bell handled event')).toMatchObject({ level: 20, part: 'agent', strikes: 1, type: 'user.signup' });
  });

  it('are not written at info, where the lines said once per change still are', async () => {
    const lines = await ringOnce('info', 'trail-2');
    expect(lines.filter((l) => l.eventId === 'trail-2')).toEqual([]);
    expect(lines.some((l) => l.msg === 'connected to MQTT broker' && l.part === 'agent')).toBe(true);
  });
});
