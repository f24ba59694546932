// The ding command, built in one place for everyone who rings a bell: the status page's
// Ring button, Slack's /ding, and the Home Assistant button (as a template HA fills in).
// A ding is a bell.test envelope on devices/<id>/ding (id "all" reaches every bell).
import { toEnvelope, type Envelope } from './envelope.js';
import { BROADCAST_DEVICE, type Topics } from './topics.js';

export interface DingRequest {
  /** Who asks, as an event source ("slack", "status/<token name>"). */
  source: string;
  subject?: string;
  data?: Record<string, unknown>;
  now?: () => Date;
}

export interface DingCommand {
  event: Envelope;
  /** One topic per bell asked, or the broadcast topic when none is named. */
  topics: string[];
  payload: string;
}

export function dingEnvelope(request: DingRequest): Envelope {
  return toEnvelope(
    { type: 'bell.test', ...(request.subject !== undefined ? { subject: request.subject } : {}), ...(request.data ? { data: request.data } : {}) },
    { source: request.source, ...(request.now ? { now: request.now } : {}) },
  );
}

export function dingCommand(topics: Topics, bells: readonly string[], request: DingRequest): DingCommand {
  const event = dingEnvelope(request);
  const targets = bells.length > 0 ? bells : [BROADCAST_DEVICE];
  return { event, topics: targets.map((id) => topics.device(id, 'ding')), payload: JSON.stringify(event) };
}

/** The same command as a Home Assistant command_template: HA renders the id and the time when the button is pressed. */
export function dingTemplate(source: string): string {
  const ID = '\u0000id\u0000';
  const TIME = '\u0000time\u0000';
  const event = dingEnvelope({ source, data: {} });
  const text = JSON.stringify({ ...event, id: ID, time: TIME });
  return text.replace(JSON.stringify(ID), '"ha-{{ now().timestamp() }}"').replace(JSON.stringify(TIME), '"{{ utcnow().isoformat() }}"');
}
