import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, waitFor } from '../helpers/world.js';
import { ask, bell, cleanUp, cleanups, knows, retainedMute, topics, world } from './socket-helpers.js';

// Retained statuses and mutes are broker behaviour: this file also runs against a real
// Mosquitto and a real RabbitMQ (BELLHOP_TEST_BROKER, see vitest.config.ts).

afterEach(cleanUp);

describe('the /ding slash command', () => {
  it('acknowledges at once, pulses the bell, then answers privately naming the bell', async () => {
    const { fake, config } = await world();
    const { driver } = await bell(config);
    await knows(fake, 'office-bell', 'online');
    const { ack, answer, envelopeId } = await ask(fake, 'office-bell');
    expect(ack).toEqual({ response_type: 'ephemeral', text: ':bell: Ringing *office-bell*…' });
    expect(answer).toMatch(/^:bell: \*office-bell\* rang \(1 strike\) in \d+ ms$/);
    expect(driver.pulses()).toHaveLength(1);
    expect(fake.timeline.indexOf(`ack:${envelopeId}`)).toBeLessThan(fake.timeline.indexOf(`answer:${envelopeId}`));
    expect(fake.answers.get(envelopeId)![0]).toMatchObject({ response_type: 'ephemeral' });
  });

  it('rings every online bell with /ding and names the offline ones with since when', async () => {
    const { fake, config } = await world();
    const office = await bell(config, 'office-bell');
    const garage = await bell(config, 'garage-bell');
    await knows(fake, 'garage-bell', 'online');
    await garage.agent.stop();
    await knows(fake, 'garage-bell', 'offline');
    const { answer } = await ask(fake, '');
    expect(answer).toContain('*office-bell* rang (1 strike)');
    expect(answer).toMatch(/:red_circle: \*garage-bell\* is offline since <!date\^\d+\^\{time_secs\}\|[\d:]+ UTC> \(\d+ s ago\)/);
    expect(office.driver.pulses()).toHaveLength(1);
    expect(garage.driver.pulses()).toHaveLength(0);
  });

  it('says a bell is offline instead of ringing it later', async () => {
    const { fake, config, broker } = await world();
    const { agent } = await bell(config);
    await knows(fake, 'office-bell', 'online');
    await agent.stop();
    await knows(fake, 'office-bell', 'offline');
    const watcher = await connectClient(broker.url);
    cleanups.push(() => watcher.endAsync());
    const dings: string[] = [];
    watcher.on('message', (t) => dings.push(t));
    await watcher.subscribeAsync(topics.anyDevice('ding'), { qos: 1 });
    const { answer } = await ask(fake, 'office-bell');
    expect(answer).toMatch(/^:red_circle: \*office-bell\* is offline since/);
    expect(dings).toEqual([]);
  });

  it('tells which bells it knows when asked for an unknown one', async () => {
    const { fake, config } = await world();
    await bell(config);
    await knows(fake, 'office-bell', 'online');
    const { answer } = await ask(fake, 'kitchen-bell');
    expect(answer).toBe("I don't know a bell called *kitchen-bell*. Bells I know: `office-bell`.");
  });

  it('explains when a bell answers but does not ring, and when one does not answer', async () => {
    const { fake, broker } = await world();
    // A bell that reports online but never answers (an agent that hangs).
    const silent = await connectClient(broker.url);
    cleanups.push(() => silent.endAsync());
    await silent.publishAsync(topics.device('attic-bell', 'status'), 'online', { qos: 1, retain: true });
    cleanups.push(async () => void (await silent.publishAsync(topics.device('attic-bell', 'status'), '', { qos: 1, retain: true })));
    await knows(fake, 'attic-bell', 'online');
    const { answer } = await ask(fake, 'attic-bell');
    expect(answer).toBe(':grey_question: *attic-bell* did not answer within 1.5 s');
  });

  it('shows each bell with /ding status', async () => {
    const { fake, config } = await world();
    await bell(config);
    await knows(fake, 'office-bell', 'online');
    await ask(fake, 'office-bell');
    const status = await fake.slashCommand({ text: 'status' });
    expect(String(status.ack.text)).toMatch(/^\*Bells\*\n• :large_green_circle: \*office-bell\* online since <!date\^\d+\^\{time_secs\}\|[\d:]+ UTC> · last ring <!date\^\d+\^\{date_short\} \{time_secs\}\|[\d:]+ UTC> \(bell\.test\)$/);
  });

  it('mutes the bells with /ding mute 30m (retained, agents obey it) and /ding unmute lets them ring again', async () => {
    const { fake, config, broker } = await world();
    const { driver } = await bell(config);
    await knows(fake, 'office-bell', 'online');
    const before = Date.now();
    const muted = await ask(fake, 'mute 30m', { user_name: 'alice' });
    expect(muted.ack).toEqual({});
    expect(muted.answer).toMatch(/^:mute: All bells are muted until <!date\^\d+\^\{time_secs\}\|[\d:]+ UTC> \(30 minutes\)\. Slack messages go on\. `\/ding unmute` to undo\.$/);
    // The retained state a bell that connects later will find.
    const mute = await retainedMute(broker.url, 'all');
    expect(mute.by).toBe('@alice');
    const until = Date.parse(mute.until!);
    expect(until).toBeGreaterThanOrEqual(before + 30 * 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 30 * 60_000);

    const silenced = await ask(fake, 'office-bell');
    expect(silenced.answer).toMatch(/^:no_bell: \*office-bell\* answered in \d+ ms but did not ring: it is muted$/);
    expect(driver.pulses()).toHaveLength(0);

    const unmuted = await ask(fake, 'unmute');
    expect(unmuted.answer).toBe(':bell: The bells may ring again.');
    expect((await retainedMute(broker.url, 'all')).until).toBeNull();
    await waitFor(async () => (await ask(fake, 'office-bell')).answer.includes('rang (1 strike)'), { what: 'the bell to ring again', intervalMs: 50 });
    expect(driver.pulses()).toHaveLength(1);
  });

  it('mutes one bell by name', async () => {
    const { fake, broker } = await world();
    const { answer } = await ask(fake, 'mute office-bell 2h');
    expect(answer).toContain('*office-bell* is muted until');
    expect(answer).toContain('(2 hours)');
    expect((await retainedMute(broker.url, 'office-bell')).until).not.toBeNull();
  });

  it('politely refuses users and channels outside the allowlist, but still shows the status', async () => {
    const { fake, config } = await world({ command: { waitMs: 1500, allowUsers: ['U0BOSS'], allowChannels: [] } });
    const { driver } = await bell(config);
    await knows(fake, 'office-bell', 'online');
    const refused = await fake.slashCommand({ text: 'office-bell', user_id: 'U0ALICE' });
    expect(String(refused.ack.text)).toMatch(/^Sorry, ringing the bells from here is limited/);
    const muteRefused = await fake.slashCommand({ text: 'mute 1h', user_id: 'U0ALICE' });
    expect(String(muteRefused.ack.text)).toMatch(/^Sorry/);
    expect(driver.pulses()).toHaveLength(0);
    const allowed = await ask(fake, 'office-bell', { user_id: 'U0BOSS' });
    expect(allowed.answer).toContain('rang');
  });

  it('answers help and nonsense with the usage, and uses the configured command name', async () => {
    const { fake } = await world({ command: { name: '/bell', waitMs: 1500 } });
    const help = await fake.slashCommand({ command: '/bell', text: 'help' });
    expect(String(help.ack.text)).toContain('`/bell status`');
    const nonsense = await fake.slashCommand({ command: '/bell', text: 'ring ring ring' });
    expect(String(nonsense.ack.text)).toMatch(/^I did not understand "ring ring ring"\.\n\*\/bell\* rings the office bells/);
  });

  it('acknowledges button clicks so Slack shows no error', async () => {
    const { fake } = await world();
    expect(await fake.blockAction('link-0')).toEqual({});
  });

  it('answers through chat.postEphemeral, not a stranger\'s URL, when the response_url is not Slack\'s', async () => {
    const { fake } = await world({}, { withBotClient: true });
    const cmd = await fake.slashCommand({ text: 'kitchen-bell', response_url: 'https://attacker.example/collect', channel_id: 'C0OPS', user_id: 'U0BOB' });
    const answer = await fake.waitForAnswer('ephemeral:C0OPS:U0BOB');
    expect(String(answer.text)).toContain("I don't know a bell called *kitchen-bell*");
    expect(fake.answers.has(cmd.envelopeId)).toBe(false);
  });
});

