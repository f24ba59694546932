// The topic scheme, in one place:
//   <prefix>/events/<type with dots as slashes>   e.g. bellhop/events/user/signup
//   <prefix>/devices/<id>/status                  retained online|offline (offline is the will)
//   <prefix>/devices/<id>/ding                    ding command; id "all" reaches every bell
//   <prefix>/devices/<id>/rang                    what a bell did, with the event id
//   <prefix>/devices/<id>/mute                    retained mute state (id "all" mutes every bell)
//   <prefix>/devices/<id>/state                   retained heartbeat: version, uptime, last ring...
//   <prefix>/devices/all/rollcall                 watchers ask every bell to say its status and state again
//   <prefix>/slack/delivered                       what the Slack sink did with each event
//   <prefix>/slack/health                          retained: does Slack take the sink's bot token
export const BROADCAST_DEVICE = 'all';

export const DEVICE_CHANNELS = ['status', 'ding', 'rang', 'mute', 'state', 'rollcall'] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

export class Topics {
  constructor(readonly prefix: string) {}

  event(type: string): string {
    return `${this.prefix}/events/${type.replaceAll('.', '/')}`;
  }

  /** All events, or those under a dotted type prefix (`user` -> bellhop/events/user/#). */
  events(typePrefix?: string): string {
    return typePrefix ? `${this.prefix}/events/${typePrefix.replaceAll('.', '/')}/#` : `${this.prefix}/events/#`;
  }

  device(id: string, channel: DeviceChannel): string {
    return `${this.prefix}/devices/${id}/${channel}`;
  }

  slackDelivered(): string {
    return `${this.prefix}/slack/delivered`;
  }

  slackHealth(): string {
    return `${this.prefix}/slack/health`;
  }

  /** A wildcard over every device's channel. */
  anyDevice(channel: DeviceChannel): string {
    return `${this.prefix}/devices/+/${channel}`;
  }

  /** Reads a topic back; undefined when it is not one of ours. */
  parse(topic: string):
    | { kind: 'event'; type: string }
    | { kind: 'device'; deviceId: string; channel: DeviceChannel }
    | { kind: 'slack-delivered' }
    | { kind: 'slack-health' }
    | undefined {
    if (!topic.startsWith(`${this.prefix}/`)) return undefined;
    const rest = topic.slice(this.prefix.length + 1).split('/');
    if (rest[0] === 'events' && rest.length >= 3) return { kind: 'event', type: rest.slice(1).join('.') };
    if (rest[0] === 'devices' && rest.length === 3 && isChannel(rest[2]) && rest[1]) {
      return { kind: 'device', deviceId: rest[1], channel: rest[2] };
    }
    if (rest.length === 2 && rest[0] === 'slack' && rest[1] === 'delivered') return { kind: 'slack-delivered' };
    if (rest.length === 2 && rest[0] === 'slack' && rest[1] === 'health') return { kind: 'slack-health' };
    return undefined;
  }
}

function isChannel(s: string | undefined): s is DeviceChannel {
  return (DEVICE_CHANNELS as readonly string[]).includes(s ?? '');
}

/** MQTT filter matching: does `topic` match `filter` (with + and #)? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Is every topic matched by `filter` also matched by `allowed`? (for subscription ACLs) */
export function filterCovered(allowed: string, filter: string): boolean {
  const a = allowed.split('/');
  const f = filter.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= f.length) return false;
    if (f[i] === '#') return false;
    if (a[i] === '+') continue;
    if (f[i] === '+' || a[i] !== f[i]) return false;
  }
  return a.length === f.length;
}
