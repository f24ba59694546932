import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { BrokerPart } from '../../broker/broker.js';
import type { ServerPart } from '../../server/server.js';
import type { AgentPart } from '../../device/agent.js';
import type { MockGpioDriver } from '../../device/gpio/mock.js';
import type { Config } from '../../shared/config/schema.js';
import type { DeliveryReport } from '../../shared/messages.js';
import type { DevicesReply, EventSummary, StatsReply, Trace } from '../../server/status/schemas.js';
import { TEST_TOKEN, connectClient, postEvents, startAgent, startBroker, startServer, testConfig, waitFor, withBroker } from '../helpers/world.js';

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

async function get<T>(base: string, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, { headers: auth });
  return { status: res.status, body: (await res.json()) as T };
}

async function post(base: string, path: string, headers: Record<string, string> = auth): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function signup(base: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await postEvents(base, { type: 'user.signup', ...extra });
  expect(res.status).toBe(202);
  return (res.json.ids as string[])[0]!;
}

/** Reads the live stream until `until` says stop; returns the messages read. */
async function readStream(
  base: string,
  until: (messages: Array<{ name: string; data: unknown }>) => boolean,
  onReady: () => Promise<void>,
): Promise<Array<{ name: string; data: unknown }>> {
  const controller = new AbortController();
  const res = await fetch(`${base}/v1/status/stream`, { headers: auth, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const messages: Array<{ name: string; data: unknown }> = [];
  let buffer = '';
  const deadline = setTimeout(() => controller.abort(), 5000);
  try {
    while (!until(messages)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name && data) {
          messages.push({ name, data: JSON.parse(data) });
          if (name === 'ready') await onReady();
        }
      }
    }
  } finally {
    clearTimeout(deadline);
    controller.abort();
  }
  return messages;
}

describe('the status endpoints in a real world (broker, server, bell agent on the mock GPIO)', () => {
  let config: Config;
  let broker: BrokerPart;
  let server: ServerPart;
  let agent: AgentPart;
  let driver: MockGpioDriver;
  let sink: MqttClient;

  beforeAll(async () => {
    const base = testConfig({ status: { recentEvents: 20 } });
    broker = await startBroker(base);
    config = withBroker(base, broker.url);
    server = await startServer(config);
    ({ agent, driver } = await startAgent(config));
    sink = await connectClient(broker.url);
    await waitFor(async () => (await get<DevicesReply>(server.url, '/v1/devices')).body.devices.length > 0, { what: 'the bell to show up' });
  });
  afterAll(async () => {
    await sink.endAsync();
    await agent.stop();
    await server.stop();
    await broker.stop();
  });

  it('answers 401 without the API token on every status endpoint', async () => {
    for (const path of ['/v1/devices', '/v1/events/recent', '/v1/events/stats', '/v1/events/x/trace', '/v1/status/stream']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    }
    expect((await post(server.url, '/v1/devices/office-bell/ring', { authorization: 'Bearer not-the-token-at-all' })).status).toBe(401);
    expect(driver.pulses()).toHaveLength(0);
  });

  it('lists the bell agent as online from its retained status', async () => {
    const { status, body } = await get<DevicesReply>(server.url, '/v1/devices');
    expect(status).toBe(200);
    expect(body.brokerConnected).toBe(true);
    expect(body.devices).toEqual([expect.objectContaining({ id: 'office-bell', state: 'online', muted: false })]);
  });

  it('traces a posted signup from the API through the broker to the bell that rang it', async () => {
    const id = await signup(server.url, { subject: 'ada@example.com', data: { plan: 'pro' } });
    const trace = await waitFor(
      async () => {
        const t = (await get<Trace>(server.url, `/v1/events/${id}/trace`)).body;
        return t.steps?.some((s) => s.stage === 'rang') ? t : undefined;
      },
      { what: 'the rang step' },
    );
    expect(trace.steps.map((s) => s.stage)).toEqual(['accepted', 'published', 'rang']);
    expect(trace.steps[0]!.text).toBe('accepted from api/test, verified by API token "test"');
    expect(trace.steps[1]!.text).toBe('published to the broker on bellhop/events/user/signup');
    expect(trace.steps[2]).toMatchObject({ text: 'rang office-bell (1 strike)', deviceId: 'office-bell', strikes: 1, outcome: 'ok' });
    expect(trace.event).toMatchObject({ id, type: 'user.signup', subject: 'ada@example.com', rang: ['office-bell'] });
    expect(trace).toMatchObject({ data: '{\n  "plan": "pro"\n}', dataCut: false });
    const recent = (await get<{ events: EventSummary[] }>(server.url, '/v1/events/recent')).body.events;
    expect(recent[0]).toMatchObject({ id, rang: ['office-bell'] });
    const devices = (await get<DevicesReply>(server.url, '/v1/devices')).body.devices;
    expect(devices[0]!.lastRing?.eventId).toBe(id);
  });

  it("adds the Slack sink's delivery report to the event's trace", async () => {
    const id = await signup(server.url);
    const report: DeliveryReport = { eventId: id, status: 'posted', channel: '#sales', ts: '1.2', permalink: 'https://acme.slack.com/archives/C1/p12', at: new Date().toISOString() };
    await sink.publishAsync('bellhop/slack/delivered', JSON.stringify(report), { qos: 1 });
    const trace = await waitFor(
      async () => {
        // The report may overtake the event on its way to the server: wait for both.
        const t = (await get<Trace>(server.url, `/v1/events/${id}/trace`)).body;
        return t.event && t.steps?.some((s) => s.stage === 'slack') ? t : undefined;
      },
      { what: 'the event and its slack step' },
    );
    expect(trace.steps.find((s) => s.stage === 'slack')).toMatchObject({ text: 'posted to Slack #sales', permalink: report.permalink });
    expect(trace.event?.slack).toBe('posted');
  });

  it("puts one digest report on the trace of every event it names", async () => {
    const ids = [await signup(server.url), await signup(server.url), await signup(server.url)];
    const report: DeliveryReport = { eventId: ids[0]!, alsoEventIds: ids.slice(1), status: 'digested', channel: '#sales', ts: '9.9', at: new Date().toISOString() };
    await sink.publishAsync('bellhop/slack/delivered', JSON.stringify(report), { qos: 1 });
    for (const id of ids) {
      const trace = await waitFor(async () => {
        const t = (await get<Trace>(server.url, `/v1/events/${id}/trace`)).body;
        return t.event && t.steps?.some((s) => s.stage === 'slack') ? t : undefined;
      }, { what: `the slack step of ${id}` });
      expect(trace.event?.slack).toBe('digested');
    }
  });

  it('keeps a delivery report for an event it never saw and shows it as a trace without the event', async () => {
    const report: DeliveryReport = { eventId: 'from-before-the-restart', status: 'failed', error: 'channel_not_found', at: new Date().toISOString() };
    await sink.publishAsync('bellhop/slack/delivered', JSON.stringify(report), { qos: 1 });
    const trace = await waitFor(async () => {
      const res = await get<Trace>(server.url, '/v1/events/from-before-the-restart/trace');
      return res.status === 200 ? res.body : undefined;
    });
    expect(trace).toMatchObject({ event: null, steps: [{ stage: 'slack', outcome: 'fail', text: 'Slack post failed: channel_not_found' }] });
  });

  it('answers 404 for the trace of an event it never heard of', async () => {
    const res = await get<Record<string, string>>(server.url, '/v1/events/never-heard-of-it/trace');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('unknown_event');
  });

  it('rings a bell from POST /v1/devices/:id/ring and traces the test ding', async () => {
    const before = driver.pulses().length;
    const res = await post(server.url, '/v1/devices/office-bell/ring');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ deviceId: 'office-bell', muted: false, mutedUntil: null, mutedBy: null, quiet: false });
    const eventId = res.body.eventId as string;
    await waitFor(() => driver.pulses().length > before, { what: 'a pulse on the mock GPIO' });
    const trace = await waitFor(async () => {
      const t = (await get<Trace>(server.url, `/v1/events/${eventId}/trace`)).body;
      return t.steps?.some((s) => s.stage === 'rang') ? t : undefined;
    });
    expect(trace.event).toMatchObject({ type: 'bell.test', target: 'office-bell', source: 'status/test' });
    expect(trace.steps.find((s) => s.stage === 'rang')).toMatchObject({ deviceId: 'office-bell', strikes: 1 });
  });

  it('refuses to ring a bell that never reported, and a malformed bell id', async () => {
    expect((await post(server.url, '/v1/devices/nobody/ring')).body).toMatchObject({ error: 'unknown_device' });
    expect((await post(server.url, '/v1/devices/Not%20A%20Bell/ring')).status).toBe(400);
  });

  it('filters recent events by type, source and severity, and refuses an unknown severity', async () => {
    await postEvents(server.url, [
      { type: 'deploy.failed', severity: 'error' },
      { type: 'deploy.succeeded' },
    ]);
    await waitFor(async () => (await get<{ events: EventSummary[] }>(server.url, '/v1/events/recent?type=deploy.*')).body.events.length === 2);
    const q = async (query: string) => (await get<{ events: EventSummary[] }>(server.url, `/v1/events/recent?${query}`)).body.events.map((e) => e.type);
    expect(await q('type=deploy.*')).toEqual(['deploy.succeeded', 'deploy.failed']);
    expect(await q('type=deploy.*&severity=error,critical')).toEqual(['deploy.failed']);
    expect(await q('source=status/*')).toEqual(['bell.test']);
    expect(await q('limit=1')).toHaveLength(1);
    const bad = await get<Record<string, string>>(server.url, '/v1/events/recent?severity=loud');
    expect(bad).toMatchObject({ status: 400, body: { error: 'bad_request' } });
  });

  it('counts events per minute by type and rings per bell for the chart', async () => {
    const { body } = await get<StatsReply>(server.url, '/v1/events/stats');
    expect(body.minutes).toHaveLength(60);
    const signups = body.minutes.reduce((n, m) => n + (m.counts['user.signup'] ?? 0), 0);
    expect(signups).toBeGreaterThanOrEqual(2);
    expect(body.rings['office-bell']).toBeGreaterThanOrEqual(2);
  });

  it('streams new events, their trace steps and bell changes live', async () => {
    let id = '';
    const messages = await readStream(
      server.url,
      (m) => m.some((x) => x.name === 'step' && (x.data as { eventId: string; step: { stage: string } }).eventId === id && (x.data as { step: { stage: string } }).step.stage === 'rang'),
      async () => {
        id = await signup(server.url);
      },
    );
    expect(messages[0]!.name).toBe('ready');
    expect(messages.find((m) => m.name === 'event' && (m.data as EventSummary).id === id)).toBeDefined();
    expect(messages.find((m) => m.name === 'device' && (m.data as { id: string }).id === 'office-bell')).toBeDefined();
  });

  it('serves the page to anyone, with a strict content security policy, and no data in it', async () => {
    for (const path of ['/status', '/']) {
      const redirect = await fetch(`${server.url}${path}`, { redirect: 'manual' });
      expect(redirect.status, path).toBe(302);
      expect(redirect.headers.get('location'), path).toBe('/status/');
    }
    const page = await fetch(`${server.url}/status/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="app.js">');
    expect(html).not.toMatch(/https?:\/\//);
    const files = [['app.js', 'text/javascript'], ['api.js', 'text/javascript'], ['bells.js', 'text/javascript'], ['dom.js', 'text/javascript'], ['chart.js', 'text/javascript'], ['style.css', 'text/css']];
    for (const [file, type] of files) {
      const res = await fetch(`${server.url}/status/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(await res.text(), `${file} loads nothing from elsewhere`).not.toMatch(/(src|href|url)\s*[=(]\s*["']?https?:/);
    }
    expect((await fetch(`${server.url}/status/..%2Fpart.ts`)).status).toBe(404);
    expect((await fetch(`${server.url}/status/nope.js`)).status).toBe(404);
  });
});

describe('the status page switched off', () => {
  it('serves none of its routes when status.enabled is false', async () => {
    const base = testConfig({ status: { enabled: false } });
    const broker = await startBroker(base);
    const server = await startServer(withBroker(base, broker.url));
    try {
      expect((await fetch(`${server.url}/v1/devices`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${server.url}/status/`)).status).toBe(404);
      const root = await fetch(`${server.url}/`, { redirect: 'manual' });
      expect(root.status).toBe(404);
      expect(await root.json()).toMatchObject({ error: 'not_found' });
    } finally {
      await server.stop();
      await broker.stop();
    }
  });
});

describe('the status page behind the broker ACL', () => {
  it('receives bell status, rang and Slack delivery reports with the server role', async () => {
    const users = [
      { username: 'srv', password: 'server-secret-1', role: 'server' },
      { username: 'office-bell', password: 'device-secret-1', role: 'device' },
      { username: 'slack', password: 'slack-secret-1', role: 'slack' },
    ];
    const base = testConfig({
      broker: { users },
      server: { mqtt: { username: 'srv', password: 'server-secret-1' } },
      device: { mqtt: { username: 'office-bell', password: 'device-secret-1' } },
    });
    const broker = await startBroker(base);
    const config = withBroker(base, broker.url);
    const server = await startServer(config);
    const { agent } = await startAgent(config);
    const slack = await connectClient(broker.url, { username: 'slack', password: 'slack-secret-1' });
    try {
      const id = await signup(server.url);
      await slack.publishAsync('bellhop/slack/delivered', JSON.stringify({ eventId: id, status: 'posted', channel: '#sales', at: new Date().toISOString() }), { qos: 1 });
      const trace = await waitFor(
        async () => {
          const t = (await get<Trace>(server.url, `/v1/events/${id}/trace`)).body;
          return t.steps?.some((s) => s.stage === 'rang') && t.steps.some((s) => s.stage === 'slack') ? t : undefined;
        },
        { what: 'rang and slack steps under the ACL' },
      );
      expect(trace.steps.map((s) => s.stage).sort()).toEqual(['accepted', 'published', 'rang', 'slack']);
      expect((await get<DevicesReply>(server.url, '/v1/devices')).body.devices[0]).toMatchObject({ id: 'office-bell', state: 'online' });
    } finally {
      await slack.endAsync();
      await agent.stop();
      await server.stop();
      await broker.stop();
    }
  });
});

describe('the live stream on shutdown', () => {
  it('ends open streams so the server stops promptly', async () => {
    const base = testConfig();
    const broker = await startBroker(base);
    const server = await startServer(withBroker(base, broker.url));
    try {
      const res = await fetch(`${server.url}/v1/status/stream`, { headers: auth });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      expect((await reader.read()).value).toContain('event: ready');
      await server.stop();
      let done = false;
      while (!done) done = (await reader.read()).done;
      expect(done).toBe(true);
    } finally {
      await server.stop();
      await broker.stop();
    }
  });
});
