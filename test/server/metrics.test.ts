import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { BrokerPart } from '../../broker/broker.js';
import type { ServerPart } from '../../server/server.js';
import { connectClient, postEvents, startBroker, startServer, testConfig, waitFor, withBroker } from '../helpers/world.js';

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : undefined;
}

describe('GET /metrics', () => {
  let broker: BrokerPart;
  let server: ServerPart;
  let device: MqttClient;

  beforeAll(async () => {
    const base = testConfig();
    broker = await startBroker(base);
    server = await startServer(withBroker(base, broker.url));
    device = await connectClient(broker.url);
  });
  afterAll(async () => {
    await device.endAsync();
    await server.stop();
    await broker.stop();
  });

  it('counts accepted events by source and their publish-to-PUBACK time', async () => {
    for (let i = 0; i < 3; i++) expect((await postEvents(server.url, { type: 'user.signup' })).status).toBe(202);
    const text = await scrape(server.url);
    expect(value(text, 'bellhop_events_accepted_total{source="api"}')).toBe(3);
    expect(value(text, 'bellhop_publish_ack_seconds_count')).toBe(3);
  });

  it('counts refusals by route and reason', async () => {
    await postEvents(server.url, '{nope');
    await postEvents(server.url, { type: 'user.signup' }, { authorization: 'Bearer wrong-wrong-wrong-wrong' });
    await postEvents(server.url, { type: 'user.signup' }, { authorization: 'Bearer wrong-wrong-wrong-wrong' });
    const text = await scrape(server.url);
    expect(value(text, 'bellhop_events_rejected_total{route="/v1/events",reason="bad_json"}')).toBe(1);
    expect(value(text, 'bellhop_events_rejected_total{route="/v1/events",reason="unauthorized"}')).toBe(2);
  });

  it('turns bells\' and the Slack sink\'s MQTT reports into bells online, strikes, suppressions and deliveries', async () => {
    await device.publishAsync('bellhop/devices/pi-1/status', 'online', { qos: 1, retain: true });
    await device.publishAsync('bellhop/devices/pi-2/status', 'online', { qos: 1, retain: true });
    await device.publishAsync('bellhop/devices/pi-2/status', 'offline', { qos: 1, retain: true });
    const rang = (strikes: number, suppressed?: string) =>
      JSON.stringify({ eventId: `e-${Math.random()}`, deviceId: 'pi-1', type: 'user.signup', strikes, at: new Date().toISOString(), ...(suppressed ? { suppressed } : {}) });
    await device.publishAsync('bellhop/devices/pi-1/rang', rang(2), { qos: 1 });
    await device.publishAsync('bellhop/devices/pi-1/rang', rang(0, 'rate-cap'), { qos: 1 });
    await device.publishAsync('bellhop/slack/delivered', JSON.stringify({ eventId: 'x', alsoEventIds: ['y', 'z'], status: 'digested', at: new Date().toISOString() }), { qos: 1 });
    // Brokers keep order per topic only, so wait for every figure rather than for the last message sent.
    const expected: Record<string, number> = {
      // One digest's report for three events counts three.
      'bellhop_slack_deliveries_total{status="digested"}': 3,
      bellhop_bells_online: 1,
      'bellhop_strikes_total{device="pi-1"}': 2,
      'bellhop_rings_suppressed_total{device="pi-1",reason="rate-cap"}': 1,
    };
    const text = await waitFor(async () => {
      const t = await scrape(server.url);
      return Object.entries(expected).every(([series, v]) => value(t, series) === v) ? t : undefined;
    }, { what: 'every report to be counted', timeoutMs: 10_000 });
    for (const [series, v] of Object.entries(expected)) expect(value(text, series)).toBe(v);
  });
});
