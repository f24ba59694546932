// Slack's clients log through their own Logger interface; this hands their lines to
// pino. Their debug lines carry whole payloads, so they go to trace.
import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from '../shared/logger.js';

export function slackLogger(log: Logger): SlackLogger {
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => log.trace(text(msg)),
    info: (...msg: unknown[]) => log.debug(text(msg)),
    warn: (...msg: unknown[]) => log.warn(text(msg)),
    error: (...msg: unknown[]) => log.warn(text(msg)),
    setLevel: () => undefined,
    getLevel: () => (log.isLevelEnabled('trace') ? LogLevel.DEBUG : LogLevel.INFO),
    setName: () => undefined,
  };
}
