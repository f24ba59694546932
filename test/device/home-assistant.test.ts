// Home Assistant discovery: the doorbell event entity and the test-ding button. The
// event's value_template is rendered with real Jinja (Python's jinja2, what Home
// Assistant's templates are) where this machine has it.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { discoveryMessages, RING_EVENT_TYPE } from '../../device/home-assistant.js';
import { parseConfig } from '../../shared/config/load.js';
import type { RangReport } from '../../shared/messages.js';

const config = parseConfig({ device: { id: 'office-bell', homeAssistant: { enabled: true, name: 'Front desk' } } });
const messages = discoveryMessages(config, '1.2.3');
const byTopic = (topic: string) => JSON.parse(messages.find((m) => m.topic === topic)!.payload) as Record<string, unknown> & { value_template: string; command_template: string };

const jinja = spawnSync('python3', ['-c', 'import jinja2'], { encoding: 'utf8' });
const noJinja = jinja.status === 0 ? undefined : `python3 with jinja2 is not installed (${(jinja.stderr || String(jinja.error)).trim().split('\n').pop()})`;
if (noJinja) console.warn(`skipping the rendering of the Home Assistant templates: ${noJinja}`);

/** What Home Assistant's MQTT event does with a message: render value_template with value_json; empty = ignored. */
function render(template: string, payload: string): string {
  const script = 'import sys, json, jinja2\nt = jinja2.Environment().from_string(sys.argv[1])\nprint(t.render(value=sys.argv[2], value_json=json.loads(sys.argv[2])), end="")';
  const r = spawnSync('python3', ['-c', script, template, payload], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

const rang = (over: Partial<RangReport> = {}): string =>
  JSON.stringify({ eventId: 'evt-1', deviceId: 'office-bell', type: 'deal.won', strikes: 3, at: '2025-01-01T00:00:00.000Z', ...over });

describe('Home Assistant discovery', () => {
  it('publishes a doorbell event entity with the event type ring, read from the rang reports, beside the button and the sensor', () => {
    expect(messages.map((m) => m.topic)).toEqual([
      'homeassistant/event/bellhop_office-bell/doorbell/config',
      'homeassistant/button/bellhop_office-bell/ring/config',
      'homeassistant/sensor/bellhop_office-bell/last_ring/config',
    ]);
    expect(byTopic('homeassistant/event/bellhop_office-bell/doorbell/config')).toMatchObject({
      unique_id: 'bellhop_office-bell_doorbell',
      device_class: 'doorbell',
      event_types: [RING_EVENT_TYPE],
      state_topic: 'bellhop/devices/office-bell/rang',
      availability_topic: 'bellhop/devices/office-bell/status',
      device: { identifiers: ['bellhop_office-bell'], name: 'Front desk' },
    });
    expect(RING_EVENT_TYPE).toBe('ring');
  });

  it('keeps the button that sends a test ding (bell.test) to the bell', () => {
    const button = byTopic('homeassistant/button/bellhop_office-bell/ring/config');
    expect(button).toMatchObject({ unique_id: 'bellhop_office-bell_ring', command_topic: 'bellhop/devices/office-bell/ding', retain: false });
    expect(button.command_template).toContain('"type":"bell.test"');
  });

  it.skipIf(noJinja !== undefined)('turns a ring that struck into a ring event with its details, and one that did not into nothing', () => {
    const template = byTopic('homeassistant/event/bellhop_office-bell/doorbell/config').value_template;
    expect(JSON.parse(render(template, rang()))).toEqual({ event_type: 'ring', strikes: 3, event_id: 'evt-1', bellhop_type: 'deal.won' });
    // A quoted id must stay one JSON string.
    expect(JSON.parse(render(template, rang({ eventId: 'a"b' }))).event_id).toBe('a"b');
    expect(render(template, rang({ strikes: 0, suppressed: 'muted' }))).toBe('');
    expect(render(template, '{"unexpected": true}')).toBe('');
  });
});
