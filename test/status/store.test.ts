import { describe, expect, it } from 'vitest';
import { toEnvelope, type Envelope } from '../../shared/envelope.js';
import { EventStore, MAX_DATA_CHARS } from '../../server/status/store.js';
import { deliveryStep, rangStep } from '../../server/status/describe.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

function event(id: string, extra: Partial<Envelope> = {}): Envelope {
  return { ...toEnvelope({ type: 'user.signup', id, source: 'api/test' }, { source: 'api/test', now: () => at(0) }), ...extra };
}

function seen(ms: number, target?: string) {
  return target === undefined ? { topic: 'bellhop/events/user/signup', at: at(ms) } : { topic: 'bellhop/devices/x/ding', at: at(ms), target };
}

function rang(eventId: string, deviceId: string, ms: number, strikes = 1, suppressed?: string) {
  return rangStep({ eventId, deviceId, type: 'user.signup', strikes, at: at(ms).toISOString(), ...(suppressed ? { suppressed } : {}) }, at(ms));
}

function posted(eventId: string, ms: number) {
  return deliveryStep({ eventId, status: 'posted', channel: '#sales', at: at(ms).toISOString() }, at(ms));
}

describe('the recent-events store and its traces', () => {
  it('traces an event as accepted, published, then the reports in the order they happened', () => {
    const store = new EventStore({ capacity: 10 });
    store.addEvent(event('e1'), seen(5));
    store.addStep('e1', posted('e1', 300));
    store.addStep('e1', rang('e1', 'office-bell', 100));
    const trace = store.trace('e1')!;
    expect(trace.steps.map((s) => s.stage)).toEqual(['accepted', 'published', 'rang', 'slack']);
    expect(trace.steps[2]!.text).toBe('rang office-bell (1 strike)');
    expect(trace.steps[3]!.text).toBe('posted to Slack #sales');
    expect(trace.event).toMatchObject({ id: 'e1', rang: ['office-bell'], silent: [], slack: 'posted' });
  });

  it('keeps reports that arrive before their event and joins them when the event comes', () => {
    const store = new EventStore({ capacity: 10 });
    expect(store.addStep('e1', rang('e1', 'office-bell', 50))).toEqual({ step: expect.objectContaining({ stage: 'rang' }), event: null });
    expect(store.trace('e1')).toMatchObject({ event: null, steps: [{ stage: 'rang' }] });
    const summary = store.addEvent(event('e1'), seen(60));
    expect(summary?.rang).toEqual(['office-bell']);
    expect(store.trace('e1')!.steps.map((s) => s.stage)).toEqual(['accepted', 'published', 'rang']);
    expect(store.pendingSize).toBe(0);
  });

  it('knows nothing about an event id it never heard of', () => {
    const store = new EventStore({ capacity: 10 });
    store.addEvent(event('e1'), seen(0));
    expect(store.trace('nope')).toBeUndefined();
  });

  it('shows a repeated report (a QoS 1 redelivery) once', () => {
    const store = new EventStore({ capacity: 10 });
    store.addEvent(event('e1'), seen(0));
    expect(store.addStep('e1', rang('e1', 'office-bell', 100))).toBeDefined();
    expect(store.addStep('e1', rang('e1', 'office-bell', 100))).toBeUndefined();
    expect(store.trace('e1')!.steps).toHaveLength(3);
  });

  it('ignores an event id it already holds', () => {
    const store = new EventStore({ capacity: 10 });
    expect(store.addEvent(event('e1'), seen(0))).toBeDefined();
    expect(store.addEvent(event('e1'), seen(10))).toBeUndefined();
    expect(store.recent()).toHaveLength(1);
  });

  it('forgets the oldest events beyond its capacity, traces included', () => {
    const store = new EventStore({ capacity: 3 });
    for (let i = 1; i <= 5; i++) store.addEvent(event(`e${i}`), seen(i));
    expect(store.size).toBe(3);
    expect(store.recent().map((e) => e.id)).toEqual(['e5', 'e4', 'e3']);
    expect(store.trace('e1')).toBeUndefined();
  });

  it('holds reports for unknown events only up to its capacity, forgetting the oldest', () => {
    const store = new EventStore({ capacity: 3 });
    for (let i = 1; i <= 10; i++) store.addStep(`ghost${i}`, rang(`ghost${i}`, 'office-bell', i));
    expect(store.pendingSize).toBe(3);
    expect(store.trace('ghost1')).toBeUndefined();
    expect(store.trace('ghost10')?.steps).toHaveLength(1);
  });

  it('keeps at most maxSteps steps per event and says the trace is truncated', () => {
    const store = new EventStore({ capacity: 3, maxSteps: 4 });
    store.addEvent(event('e1'), seen(0));
    for (let i = 0; i < 10; i++) store.addStep('e1', rang('e1', `bell-${i}`, 100 + i));
    const trace = store.trace('e1')!;
    expect(trace.steps).toHaveLength(4);
    expect(trace.truncated).toBe(true);
  });

  it('counts a bell that reported without striking as silent, not rung', () => {
    const store = new EventStore({ capacity: 3 });
    store.addEvent(event('e1'), seen(0));
    store.addStep('e1', rang('e1', 'office-bell', 100, 0, 'too-old'));
    store.addStep('e1', rang('e1', 'kitchen', 120, 1));
    expect(store.recent()[0]).toMatchObject({ rang: ['kitchen'], silent: ['office-bell'] });
    expect(store.trace('e1')!.steps[2]).toMatchObject({ outcome: 'warn', text: 'office-bell did not ring: the event was too old when it arrived' });
  });

  it('reports the latest Slack delivery status in the summary', () => {
    const store = new EventStore({ capacity: 3 });
    store.addEvent(event('e1'), seen(0));
    store.addStep('e1', deliveryStep({ eventId: 'e1', status: 'posted', at: at(200).toISOString() }, at(200)));
    store.addStep('e1', deliveryStep({ eventId: 'e1', status: 'retrying', error: 'rate_limited', at: at(100).toISOString() }, at(100)));
    expect(store.recent()[0]!.slack).toBe('posted');
  });

  it('names the channel and link of the latest Slack report in the summary, and drops those an older report gave', () => {
    const store = new EventStore({ capacity: 3 });
    store.addEvent(event('e1'), seen(0));
    const link = 'https://acme.slack.com/archives/C1/p1';
    store.addStep('e1', deliveryStep({ eventId: 'e1', status: 'posted', channel: '#sales', permalink: link, at: at(100).toISOString() }, at(100)));
    expect(store.recent()[0]).toMatchObject({ slack: 'posted', slackChannel: '#sales', slackPermalink: link });
    store.addStep('e1', deliveryStep({ eventId: 'e1', status: 'failed', error: 'message_not_found', at: at(200).toISOString() }, at(200)));
    expect(store.recent()[0]!.slack).toBe('failed');
    expect(store.recent()[0]).not.toHaveProperty('slackChannel');
    expect(store.recent()[0]).not.toHaveProperty('slackPermalink');
  });

  it("keeps the event's data for its trace as indented JSON, cut after MAX_DATA_CHARS characters", () => {
    const store = new EventStore({ capacity: 3 });
    store.addEvent(event('small', { data: { plan: 'pro', seats: 5 } }), seen(0));
    expect(store.trace('small')).toMatchObject({ data: '{\n  "plan": "pro",\n  "seats": 5\n}', dataCut: false });
    store.addEvent(event('none'), seen(1));
    expect(store.trace('none')).toMatchObject({ data: null, dataCut: false });
    // '{\n  "text": "' is 13 characters, so the emoji straddles the cut: it goes whole, not half of it.
    const big = { text: `${'x'.repeat(MAX_DATA_CHARS - 14)}😀${'y'.repeat(10_000)}` };
    store.addEvent(event('big', { data: big }), seen(2));
    const trace = store.trace('big')!;
    expect(trace.dataCut).toBe(true);
    expect(trace.data!.length).toBe(MAX_DATA_CHARS - 1);
    expect(trace.data).toBe(JSON.stringify(big, null, 2).slice(0, MAX_DATA_CHARS - 1));
    expect(trace.data!.endsWith('x')).toBe(true);
    // A trace of only reports has no data to show.
    store.addStep('ghost', rang('ghost', 'office-bell', 5));
    expect(store.trace('ghost')).toMatchObject({ data: null, dataCut: false });
    expect(store.recent()[0]).not.toHaveProperty('data');
  });

  it('filters recent events by type glob, source glob and severities, newest first', () => {
    const store = new EventStore({ capacity: 10 });
    store.addEvent(event('a', { type: 'user.signup' }), seen(1));
    store.addEvent(event('b', { type: 'user.login', severity: 'warning' }), seen(2));
    store.addEvent(event('c', { type: 'deploy.failed', severity: 'error', source: 'github/acme' }), seen(3));
    store.addEvent(event('d', { type: 'user.signup', source: 'stripe' }), seen(4));
    const ids = (f: Parameters<EventStore['recent']>[0]) => store.recent(f).map((e) => e.id);
    expect(ids({})).toEqual(['d', 'c', 'b', 'a']);
    expect(ids({ type: 'user.*' })).toEqual(['d', 'b', 'a']);
    expect(ids({ type: 'user.signup' })).toEqual(['d', 'a']);
    expect(ids({ source: 'api/*' })).toEqual(['b', 'a']);
    expect(ids({ severities: ['warning', 'error'] })).toEqual(['c', 'b']);
    expect(ids({ limit: 2 })).toEqual(['d', 'c']);
  });

  it('marks a ding command with the bell it was sent to', () => {
    const store = new EventStore({ capacity: 3 });
    const summary = store.addEvent(event('d1', { type: 'bell.test', source: 'status/test' }), seen(0, 'office-bell'));
    expect(summary).toMatchObject({ target: 'office-bell' });
    expect(store.trace('d1')!.steps[0]!.text).toBe('accepted from status/test, verified by API token "test"');
  });
});
