import { describe, expect, it } from 'vitest';
import { MinuteCounter, OTHER } from '../../server/status/counter.js';

describe('per-minute counts over the last hour', () => {
  it('counts by key in the minute they happen and lists every minute of the hour, oldest first', () => {
    let now = Date.parse('2025-03-01T12:00:10.000Z');
    const counter = new MinuteCounter({ now: () => now });
    counter.add('user.signup');
    counter.add('user.signup');
    now += 60_000;
    counter.add('deploy.failed');
    const series = counter.series();
    expect(series).toHaveLength(60);
    expect(series[59]).toEqual({ start: '2025-03-01T12:01:00.000Z', counts: { 'deploy.failed': 1 } });
    expect(series[58]).toEqual({ start: '2025-03-01T12:00:00.000Z', counts: { 'user.signup': 2 } });
    expect(series[0]!.counts).toEqual({});
    expect(counter.totals()).toEqual({ 'user.signup': 2, 'deploy.failed': 1 });
  });

  it('forgets minutes that slid out of the hour', () => {
    let now = Date.parse('2025-03-01T12:00:00.000Z');
    const counter = new MinuteCounter({ now: () => now });
    counter.add('user.signup');
    now += 59 * 60_000;
    expect(counter.totals()).toEqual({ 'user.signup': 1 });
    now += 60_000;
    expect(counter.totals()).toEqual({});
    expect(counter.series().every((m) => Object.keys(m.counts).length === 0)).toBe(true);
  });

  it('counts keys beyond its limit per minute as "other"', () => {
    const counter = new MinuteCounter({ now: () => 0, maxKeys: 2 });
    for (const key of ['a.a', 'b.b', 'c.c', 'd.d', 'a.a']) counter.add(key);
    expect(counter.totals()).toEqual({ 'a.a': 2, 'b.b': 1, [OTHER]: 2 });
  });
});
