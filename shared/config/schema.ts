// The one settings schema: it drives validation, defaults and the README's
// configuration reference, so the three never disagree. Each top-level section
// lives in its own module under sections/.
import { Type, type Static } from '@sinclair/typebox';
import { BrokerSection } from './sections/broker.js';
import { ServerSection } from './sections/server.js';
import { DeviceSection } from './sections/device.js';
import { MqttSection } from './sections/mqtt.js';
import { SlackSection } from './sections/slack.js';
import { SourcesSection } from './sections/sources.js';
import { StatusSection } from './sections/status.js';

export { EVENT_TYPE_PATTERN, type MqttCredentialsConfig } from './sections/common.js';
export type { BrokerConfig, BrokerUserConfig } from './sections/broker.js';
export type { ServerConfig } from './sections/server.js';
export type { DeviceConfig, BellConfig } from './sections/device.js';
export type { MqttConfig } from './sections/mqtt.js';
export type { SlackConfig, RouteConfig, MessageTemplateConfig } from './sections/slack.js';
export type { SourcesConfig } from './sections/sources.js';
export type { StatusConfig } from './sections/status.js';

/** pino's levels, quietest last. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ default: './data', description: 'Folder for broker persistence and the generated API token. Env: BELLHOP_DATA_DIR.' }),
    dataSync: Type.Union([Type.Literal('group'), Type.Literal('none')], {
      default: 'group',
      description:
        'group: what the embedded broker and the Slack outbox write before they acknowledge (the broker\'s PUBACK, so a 202; the Slack part\'s PUBACK of an event) is grouped per tick and flushed to the disk (fsync) before the acks of that group go out, so it survives a power cut; a group holding only deletes of what every subscriber already has is written unsynced, so a power cut can only cost a repeat (subscribers drop copies by event id). none: written to the OS cache only; survives a crash of bellhop but a power cut can lose what the kernel had not written back (up to ~30 s on Linux defaults). Applies to the parts on this machine (an external broker has its own setting). Env: BELLHOP_DATA_SYNC.',
    }),
    log: Type.Object(
      {
        level: Type.Union(
          LOG_LEVELS.map((l) => Type.Literal(l)),
          { default: 'info', description: 'pino log level; debug adds one line per event in each part (accepted, routed, bell handled), with its eventId. Env: BELLHOP_LOG_LEVEL; flag: --log-level.' },
        ),
        format: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], {
          default: 'auto',
          description: 'auto: one coloured line per entry when the log goes to a terminal, JSON lines otherwise (the journal, a pipe). Env: BELLHOP_LOG_FORMAT; flag: --log-format.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    mqtt: MqttSection,
    broker: BrokerSection,
    server: ServerSection,
    device: DeviceSection,
    slack: SlackSection,
    sources: SourcesSection,
    status: StatusSection,
  },
  { additionalProperties: false, default: {} },
);

export type Config = Static<typeof ConfigSchema>;
