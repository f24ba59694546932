// device: the bell agent on the Pi.
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPE_PATTERN, Ms, MqttCredentials } from './common.js';

const EventType = Type.String({ pattern: EVENT_TYPE_PATTERN });
const ClockTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'Local time as HH:MM (24 hours).' });
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export const RingPattern = Type.Object(
  {
    strikes: Type.Integer({ minimum: 1, maximum: 10, default: 1, description: 'Strikes per ring.' }),
    pulseMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Pulse of each strike (default bell.pulseMs); always capped at bell.maxPulseMs.' })),
    gapMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, description: 'Pause between strikes (default bell.gapMs); never below bell.minGapMs.' })),
  },
  { additionalProperties: false },
);
export type RingPattern = Static<typeof RingPattern>;

const QuietWindow = Type.Object(
  {
    start: ClockTime,
    end: ClockTime,
    days: Type.Optional(
      Type.Array(Type.Union(WEEKDAYS.map((d) => Type.Literal(d))), {
        description: 'Days the window starts on (default every day); a window past midnight ends the next morning.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const DeviceSection = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', default: 'office-bell', description: 'Device id: MQTT client id and topic level. "all" is reserved.' }),
    events: Type.Array(EventType, {
      // The types of the default ring patterns, so each pattern can ring.
      default: ['user.signup', 'subscription.upgraded', 'deal.won', 'bell.test'],
      description: 'Event types this bell rings for (each must be a known type or in server.eventTypes). A sign-up that is a Stripe customer or a Coder account: list customer.created or user.created instead of user.signup (docs/sources.md).',
    }),
    mqtt: MqttCredentials,
    reconnectMaxMs: Ms(60_000, 1000, 600_000, 'Longest wait between reconnect attempts: the wait starts at mqtt.reconnectMs and doubles after each failed attempt.'),
    gpio: Type.Object(
      {
        driver: Type.Union([Type.Literal('auto'), Type.Literal('onoff'), Type.Literal('gpiod'), Type.Literal('mock'), Type.Literal('sim')], {
          default: 'auto',
          description:
            'onoff drives a real pin over sysfs (/sys/class/gpio); gpiod over the GPIO character device (/dev/gpiochipN) with libgpiod\'s tools (package gpiod, 1.6 or 2.x); sim prints each ding; mock records writes (tests); ' +
            'auto = onoff where /sys/class/gpio exists, else gpiod where /dev/gpiochip* exists, else sim. Env: BELLHOP_GPIO_DRIVER.',
        }),
        pin: Type.Integer({ minimum: 0, maximum: 53, default: 17, description: 'BCM pin number of the hammer (the GPIO number on pinout diagrams, not the header position). Env: BELLHOP_GPIO_PIN.' }),
        sysfsNumber: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 4095,
            description: 'The pin\'s number under /sys/class/gpio, when it must be forced. Default: found from the BCM pin and the GPIO chip the kernel reports (base 0 on old kernels, 512 and up since 6.6, the RP1 chip on a Pi 5).',
          }),
        ),
        activeLow: Type.Boolean({ default: false, description: 'The driver stage switches the solenoid on when the pin is low (e.g. some relay boards).' }),
      },
      { additionalProperties: false, default: {} },
    ),
    bell: Type.Object(
      {
        pulseMs: Ms(40, 1, 1000, 'How long the hammer pin stays high per strike.'),
        gapMs: Ms(150, 0, 10_000, 'Pause between strikes of one ring.'),
        maxPulseMs: Ms(100, 1, 1000, 'Hard cap on a pulse, whatever else asks for more (never above 1000).'),
        minGapMs: Ms(100, 0, 10_000, 'Least time the pin stays low between any two strikes.'),
        maxStrikesPerMinute: Type.Integer({ minimum: 1, maximum: 60_000, default: 20, description: 'Rate cap; events beyond it are coalesced into one later strike.' }),
        maxEventAgeSeconds: Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 300, description: 'Events older than this when they arrive are never rung.' }),
        patterns: Type.Record(EventType, RingPattern, {
          default: { 'user.signup': { strikes: 1 }, 'subscription.upgraded': { strikes: 2 }, 'deal.won': { strikes: 3 } },
          description: 'Ring pattern per event type: strikes, and optionally pulseMs and gapMs. Types not listed strike once.',
        }),
        strikes: Type.Record(EventType, Type.Integer({ minimum: 1, maximum: 10 }), {
          default: {},
          description: 'Shorthand for the strike count per event type, e.g. {"subscription.upgraded": 2}; overrides the strikes of a pattern.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    quietHours: Type.Object(
      {
        windows: Type.Array(QuietWindow, {
          default: [],
          description: 'When the bell stays silent, e.g. [{start: "19:00", end: "08:00"}, {start: "00:00", end: "23:59", days: [sat, sun]}].',
        }),
        timeZone: Type.String({ default: 'local', description: 'IANA time zone of the windows, e.g. Europe/Berlin; "local" = the system\'s.' }),
        bypass: Type.Array(EventType, { default: [], description: 'Event types that ring even in quiet hours, e.g. ["bell.test"] for test dings.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    catchUp: Type.Object(
      {
        policy: Type.Union([Type.Literal('once'), Type.Literal('skip')], {
          default: 'once',
          description: 'Events that waited in the broker while the bell was offline: once = one strike for all of them; skip = none rings.',
        }),
        maxAgeSeconds: Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 30, description: 'An event older than this when it arrives waited while the bell was offline.' }),
        windowSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 10, description: 'Late events arriving less than this apart belong to the same catch-up (policy once: one strike).' }),
      },
      { additionalProperties: false, default: {} },
    ),
    dingTtlSeconds: Type.Integer({ minimum: 1, maximum: 300, default: 10, description: 'A ding command older than this when it arrives is not rung (no ghost dings after a reboot).' }),
    heartbeatSeconds: Type.Integer({ minimum: 5, maximum: 3600, default: 60, description: 'How often the retained state (version, uptime, last ring, muted, quiet) is published.' }),
    homeAssistant: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'Publish Home Assistant MQTT discovery: a device with a "Ring" button and a "Last ring" sensor.' }),
        discoveryPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'homeassistant', description: 'Home Assistant\'s discovery prefix (the broker ACL grants devices homeassistant/ only).' }),
        name: Type.String({ default: '', description: 'Device name shown in Home Assistant (default: the device id).' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type DeviceConfig = Static<typeof DeviceSection>;
export type BellConfig = DeviceConfig['bell'];
export type QuietHoursConfig = DeviceConfig['quietHours'];
export type CatchUpConfig = DeviceConfig['catchUp'];
