// Builds parts from the config. `bellhop start` is only "several of these in one process".
// Each part's modules are imported when it is built, so `bellhop agent` on a Pi loads
// neither fastify nor aedes nor the Slack clients (a third of the agent's memory).
import type { Config } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { BrokerPart } from '../broker/broker.js';
import type { ServerPart } from '../server/server.js';
import type { AgentPart } from '../device/agent.js';
import type { GpioDriver } from '../device/gpio/driver.js';

export async function buildBroker(config: Config, logger: Logger): Promise<BrokerPart> {
  const { BrokerPart } = await import('../broker/broker.js');
  return new BrokerPart({ config: config.broker, topicPrefix: config.mqtt.topicPrefix, dataDir: config.dataDir, logger });
}

export async function buildServer(config: Config, logger: Logger): Promise<{ server: ServerPart; token: string; generated: boolean }> {
  const [{ ServerPart }, { resolveApiTokens }] = await Promise.all([import('../server/server.js'), import('../server/api-token.js')]);
  const { tokens, generated } = resolveApiTokens(config.server.tokens, config.dataDir);
  const server = new ServerPart({ config, tokens, logger });
  return { server, token: tokens[0]!.token, generated };
}

export async function buildAgent(
  config: Config,
  logger: Logger,
  print: (line: string) => void,
): Promise<{ agent: AgentPart; driver: GpioDriver }> {
  const [{ AgentPart }, { createGpioDriver }] = await Promise.all([import('../device/agent.js'), import('../device/gpio/select.js')]);
  const driver = await createGpioDriver(config.device.gpio, {
    print,
    warn: (message) => logger.warn({ part: 'agent' }, message),
    info: (message) => logger.info({ part: 'agent' }, message),
  });
  return { agent: new AgentPart({ config, driver, logger }), driver };
}

export async function loadSlackBuilder(): Promise<typeof import('../server/slack/build.js')> {
  return import('../server/slack/build.js');
}
