// One root logger per process; parts take children ({part}) and events ({eventId}).
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Paths pino blanks out, wherever a secret could ride along in a log object. */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  '*.password',
  '*.token',
  '*.secret',
  '*.*.password',
  '*.*.token',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-gitlab-token"]',
  'req.headers["stripe-signature"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-airbrake-token"]',
  'req.headers["x-angie-webhooksecret"]',
  'req.headers["x-bellhop-token"]',
  'req.query.token',
  'req.query.key',
  'config.sources',
  'config.server.tokens',
  'config.broker.users',
  'botToken',
  'appToken',
  '*.botToken',
  '*.appToken',
  'config.slack.botToken',
  'config.slack.appToken',
  'config.slack.mqtt.password',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
