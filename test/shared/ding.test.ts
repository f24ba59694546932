import { describe, expect, it } from 'vitest';
import { dingCommand, dingTemplate } from '../../shared/ding.js';
import { parseEnvelope } from '../../shared/envelope.js';
import { isMuted, mutedUntil, parse, RangReport } from '../../shared/messages.js';
import { Topics } from '../../shared/topics.js';

const topics = new Topics('bellhop');

describe('the ding command', () => {
  it('goes to each bell asked, or to every bell when none is named, as one bell.test envelope', () => {
    const one = dingCommand(topics, ['desk'], { source: 'status/ci', subject: 'Ring button' });
    expect(one.topics).toEqual(['bellhop/devices/desk/ding']);
    expect(parseEnvelope(one.payload)).toMatchObject({ type: 'bell.test', source: 'status/ci', subject: 'Ring button', id: one.event.id });
    expect(dingCommand(topics, [], { source: 'slack' }).topics).toEqual(['bellhop/devices/all/ding']);
  });

  it('renders, as Home Assistant fills in its template, to the envelope the other senders send', () => {
    const rendered = dingTemplate('homeassistant')
      .replace('{{ now().timestamp() }}', '1764720000.5')
      .replace('{{ utcnow().isoformat() }}', '2026-12-03T05:40:00.123456+00:00');
    const fromHa = parseEnvelope(rendered);
    const fromUs = dingCommand(topics, [], { source: 'homeassistant', data: {} }).event;
    expect(fromHa).toEqual({ ...fromUs, id: 'ha-1764720000.5', time: '2026-12-03T05:40:00.123456+00:00' });
  });
});

describe('reading payloads', () => {
  it('returns the value when it fits the schema and undefined otherwise', () => {
    const report = { eventId: 'e', deviceId: 'd', type: 't', strikes: 1, at: 'now' };
    expect(parse(RangReport, JSON.stringify(report))).toEqual(report);
    expect(parse(RangReport, JSON.stringify({ ...report, strikes: -1 }))).toBeUndefined();
    expect(parse(RangReport, '{not json')).toBeUndefined();
  });

  it('knows a mute is over when its time has passed, and ignores a time it cannot read', () => {
    const now = Date.parse('2026-12-03T05:00:00Z');
    expect(mutedUntil({ until: '2026-12-03T06:00:00Z' }, now)).toBe(Date.parse('2026-12-03T06:00:00Z'));
    expect(isMuted({ until: '2026-12-03T04:00:00Z' }, now)).toBe(false);
    expect(isMuted({ until: 'soon' }, now)).toBe(false);
    expect(isMuted({ until: null }, now)).toBe(false);
  });
});
