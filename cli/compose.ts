// Builds parts from the config. `bellhop start` is only "several of these in one process".
import type { Config } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import { BrokerPart } from '../broker/broker.js';
import { ServerPart } from '../server/server.js';
import { resolveApiTokens } from '../server/api-token.js';
import { AgentPart } from '../device/agent.js';
import { createGpioDriver } from '../device/gpio/select.js';
import type { GpioDriver } from '../device/gpio/driver.js';

export function buildBroker(config: Config, logger: Logger): BrokerPart {
  return new BrokerPart({ config: config.broker, topicPrefix: config.mqtt.topicPrefix, dataDir: config.dataDir, logger });
}

export function buildServer(config: Config, logger: Logger): { server: ServerPart; token: string; generated: boolean } {
  const { tokens, generated } = resolveApiTokens(config.server.tokens, config.dataDir);
  const server = new ServerPart({ config, tokens, logger });
  return { server, token: tokens[0]!.token, generated };
}

export async function buildAgent(
  config: Config,
  logger: Logger,
  print: (line: string) => void,
): Promise<{ agent: AgentPart; driver: GpioDriver }> {
  const driver = await createGpioDriver(config.device.gpio, {
    print,
    warn: (message) => logger.warn({ part: 'agent' }, message),
    info: (message) => logger.info({ part: 'agent' }, message),
  });
  return { agent: new AgentPart({ config, driver, logger }), driver };
}
