// The world for the /ding tests: a broker, the fake Slack with Socket Mode, the app,
// and bells on the mock GPIO.
import type { MqttClient } from 'mqtt';
import { SocketApp } from '../../slack/socket/socket-app.js';
import { createWebClient } from '../../slack/api.js';
import { parseMute, type MuteState } from '../../shared/messages.js';
import { Topics } from '../../shared/topics.js';
import type { Config } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logger.js';
import { MockGpioDriver } from '../../device/gpio/mock.js';
import { APP_TOKEN, BOT_TOKEN, FakeSlack } from '../fake-slack/server.js';
import { connectClient, silentLogger, startAgent, startBroker, testConfig, withBroker, waitFor } from '../helpers/world.js';

/** Teardown steps of the current test, run in reverse by cleanUp(). */
export const cleanups: Array<() => Promise<void>> = [];

export async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}

export const topics = new Topics('bellhop');

export async function world(slack: Record<string, unknown> = {}, { logger = silentLogger(), withBotClient = false }: { logger?: Logger; withBotClient?: boolean } = {}) {
  const fake = new FakeSlack();
  await fake.start();
  cleanups.push(() => fake.stop());
  const base = testConfig({
    device: { bell: { pulseMs: 5, gapMs: 5, minGapMs: 5 } },
    slack: {
      appToken: APP_TOKEN,
      apiUrl: fake.apiUrl,
      socket: { reconnectMs: 20, pingTimeoutMs: 1000, connectTimeoutMs: 3000 },
      command: { waitMs: 1500 },
      ...slack,
    },
  });
  const broker = await startBroker(base);
  cleanups.push(() => broker.stop());
  const config = withBroker(base, broker.url);
  const botClient = withBotClient ? createWebClient({ token: BOT_TOKEN, apiUrl: fake.apiUrl, timeoutMs: 2000, logger }) : undefined;
  const app = new SocketApp({ config, logger, botClient });
  await app.start();
  cleanups.push(() => app.stop());
  await fake.waitForHellos(1);
  await waitFor(() => app.connected, { what: 'the app to see the hello' });
  return { fake, config, broker, app };
}

export async function bell(config: Config, id = 'office-bell') {
  const { agent, driver } = await startAgent({ ...config, device: { ...config.device, id } }, new MockGpioDriver());
  cleanups.push(() => agent.stop());
  return { agent, driver };
}

export async function ask(fake: FakeSlack, text: string, fields: Record<string, string> = {}): Promise<{ ack: Record<string, unknown>; answer: string; envelopeId: string }> {
  const cmd = await fake.slashCommand({ text, ...fields });
  const answer = await fake.waitForAnswer(cmd.envelopeId);
  return { ack: cmd.ack, answer: String(answer.text), envelopeId: cmd.envelopeId };
}

/** Waits until the app has seen `id`'s retained status (it subscribes asynchronously). */
export async function knows(fake: FakeSlack, id: string, status: 'online' | 'offline'): Promise<void> {
  await waitFor(
    async () => {
      const cmd = await fake.slashCommand({ text: 'status' });
      return String(cmd.ack.text).includes(`*${id}* ${status === 'online' ? 'online' : 'is offline'}`);
    },
    { what: `the app to know ${id} is ${status}`, intervalMs: 50 },
  );
}

/** The retained mute state a bell connecting now would find. */
export async function retainedMute(url: string, deviceId: string): Promise<MuteState> {
  const client: MqttClient = await connectClient(url);
  const got: MuteState[] = [];
  try {
    client.on('message', (_t, payload) => {
      const mute = parseMute(payload);
      if (mute) got.push(mute);
    });
    await client.subscribeAsync(topics.device(deviceId, 'mute'), { qos: 1 });
    return await waitFor(() => got[0], { what: `a retained mute on ${deviceId}`, timeoutMs: 3000 });
  } finally {
    await client.endAsync();
  }
}
