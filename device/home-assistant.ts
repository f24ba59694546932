// Home Assistant MQTT discovery: the bell shows up as a device with a doorbell event
// entity (device_class doorbell, event type "ring", fired for each ring that struck),
// a "Ring" button for a test ding and a "Last ring" sensor. The event reads the rang
// reports (not retained: Home Assistant drops replayed retained events anyway); the
// button publishes a ding envelope built by Home Assistant's template (with its own
// clock, so the ding's time-to-live applies); the sensor reads the retained state.
import type { Config } from '../shared/config/schema.js';
import { Topics } from '../shared/topics.js';
import { DEVICE_OFFLINE, DEVICE_ONLINE } from '../shared/messages.js';
import { dingTemplate } from '../shared/ding.js';

export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/** The node id under the discovery prefix; the broker ACL grants devices exactly this. */
export function discoveryNodeId(deviceId: string): string {
  return `bellhop_${deviceId}`;
}

const DING_TEMPLATE = dingTemplate('homeassistant');

/** The doorbell event's type: one per ring that struck the bell. */
export const RING_EVENT_TYPE = 'ring';

/**
 * A rang report as Home Assistant's event payload. Rings that did not strike (muted,
 * quiet hours, rate cap...) render empty, which Home Assistant ignores. Plain Jinja
 * only (tojson), so the template means the same in any Jinja.
 */
const RING_EVENT_TEMPLATE =
  `{% if value_json.strikes is defined and value_json.strikes > 0 %}` +
  `{"event_type": "${RING_EVENT_TYPE}", "strikes": {{ value_json.strikes | int }}, ` +
  `"event_id": {{ value_json.eventId | tojson }}, "bellhop_type": {{ value_json.type | tojson }}}` +
  `{% endif %}`;

export function discoveryMessages(config: Config, version: string): DiscoveryMessage[] {
  const { id, homeAssistant } = config.device;
  const topics = new Topics(config.mqtt.topicPrefix);
  const node = discoveryNodeId(id);
  const base = `${homeAssistant.discoveryPrefix}`;
  const device = {
    identifiers: [node],
    name: homeAssistant.name || id,
    manufacturer: 'bellhop',
    model: 'Service bell',
    sw_version: version,
  };
  const availability = {
    availability_topic: topics.device(id, 'status'),
    payload_available: DEVICE_ONLINE,
    payload_not_available: DEVICE_OFFLINE,
  };
  const doorbell = {
    name: 'Doorbell',
    unique_id: `${node}_doorbell`,
    device_class: 'doorbell',
    event_types: [RING_EVENT_TYPE],
    state_topic: topics.device(id, 'rang'),
    value_template: RING_EVENT_TEMPLATE,
    qos: 1,
    ...availability,
    device,
  };
  // The test ding: a bell.test envelope, which rings whatever the event patterns say.
  const button = {
    name: 'Ring',
    unique_id: `${node}_ring`,
    icon: 'mdi:bell-ring',
    command_topic: topics.device(id, 'ding'),
    command_template: DING_TEMPLATE,
    qos: 1,
    retain: false,
    ...availability,
    device,
  };
  const sensor = {
    name: 'Last ring',
    unique_id: `${node}_last_ring`,
    icon: 'mdi:bell-check',
    device_class: 'timestamp',
    state_topic: topics.device(id, 'state'),
    value_template: '{{ value_json.lastRing.at if value_json.lastRing is defined else none }}',
    ...availability,
    device,
  };
  return [
    { topic: `${base}/event/${node}/doorbell/config`, payload: JSON.stringify(doorbell) },
    { topic: `${base}/button/${node}/ring/config`, payload: JSON.stringify(button) },
    { topic: `${base}/sensor/${node}/last_ring/config`, payload: JSON.stringify(sensor) },
  ];
}
