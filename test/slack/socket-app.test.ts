import { afterEach, describe, expect, it } from 'vitest';
import { SocketApp } from '../../server/slack/socket-app.js';
import { APP_TOKEN, FakeSlack } from '../fake-slack/server.js';
import { silentLogger, startAgent, startBroker, testConfig, withBroker, waitFor } from '../helpers/world.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function world(slack: Record<string, unknown> = {}) {
  const fake = new FakeSlack();
  await fake.start();
  cleanups.push(() => fake.stop());
  const base = testConfig({
    device: { bell: { pulseMs: 5, gapMs: 5, minGapMs: 5 } },
    slack: {
      appToken: APP_TOKEN,
      apiUrl: fake.apiUrl,
      socket: { reconnectMs: 20, pingTimeoutMs: 1000, connectTimeoutMs: 3000 },
      command: { waitMs: 2000 },
      ...slack,
    },
  });
  const broker = await startBroker(base);
  cleanups.push(() => broker.stop());
  const config = withBroker(base, broker.url);
  const app = new SocketApp({ config, logger: silentLogger() });
  await app.start();
  cleanups.push(() => app.stop());
  await fake.waitForHellos(1);
  return { fake, config, broker, app };
}

describe('the /ding slash command', () => {
  it('rings the bell and answers privately with its name', async () => {
    const { fake, config } = await world();
    const { agent, driver } = await startAgent(config);
    cleanups.push(() => agent.stop());
    const cmd = await fake.slashCommand({ text: '' });
    const answer = await fake.waitForAnswer(cmd.envelopeId);
    console.log(cmd.ack, answer);
    expect(driver.pulses().length).toBeGreaterThan(0);
  });
});
