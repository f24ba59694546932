// device: the bell agent on the Pi.
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPE_PATTERN, Ms, MqttCredentials } from './common.js';

export const DeviceSection = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', default: 'office-bell', description: 'Device id: MQTT client id and topic level. "all" is reserved.' }),
    events: Type.Array(Type.String({ pattern: EVENT_TYPE_PATTERN }), {
      default: ['user.signup', 'bell.test'],
      description: 'Event types this bell rings for.',
    }),
    mqtt: MqttCredentials,
    gpio: Type.Object(
      {
        driver: Type.Union([Type.Literal('auto'), Type.Literal('onoff'), Type.Literal('mock'), Type.Literal('sim')], {
          default: 'auto',
          description: 'onoff drives a real pin; sim prints each ding; mock records writes (tests); auto = onoff where /sys/class/gpio exists, else sim. Env: BELLHOP_GPIO_DRIVER.',
        }),
        pin: Type.Integer({ minimum: 0, maximum: 53, default: 17, description: 'BCM pin number of the hammer. Env: BELLHOP_GPIO_PIN.' }),
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
        maxEventAgeSeconds: Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 300, description: 'Events older than this when they arrive are not rung.' }),
        strikes: Type.Record(Type.String({ pattern: EVENT_TYPE_PATTERN }), Type.Integer({ minimum: 1, maximum: 10 }), {
          default: {},
          description: 'Strikes per event type (default 1), e.g. {"subscription.upgraded": 2}.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type DeviceConfig = Static<typeof DeviceSection>;
export type BellConfig = DeviceConfig['bell'];
