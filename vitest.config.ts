// Three runs in one `npm test`: every test against the embedded aedes broker, then the
// broker-facing tests again against a real Mosquitto and a real RabbitMQ (BELLHOP_TEST_BROKER=
// mosquitto|rabbitmq makes test/helpers/world.ts's startBroker start or lease one). A test file is broker-facing when it
// calls startBroker( or reads BELLHOP_TEST_BROKER; tests of the embedded broker itself
// build BrokerPart directly and so run once.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { mosquittoBinary, MOSQUITTO_MISSING } from './test/helpers/mosquitto.js';
import { rabbitmqServerScript, RABBITMQ_MISSING } from './test/helpers/rabbitmq-node.js';

// Broker-facing files that rely on aedes specifics, with the reason.
const AEDES_ONLY: Record<string, string> = {
  // Reads the embedded broker's own log lines ('login refused', 'publish denied by ACL') and
  // expects a refused SUBACK and client-id binding, which Mosquitto's ACL file cannot express;
  // test/broker/acl-deny.test.ts checks the same denials on both brokers by their effect.
  'test/broker/acl.test.ts': 'asserts on aedes log lines and SUBACK refusals',
};
// Broker-facing only as plumbing: a second run would test nothing new and cost seconds.
const ONCE_IS_ENOUGH: Record<string, string> = {
  'test/device/gpio/sysfs.test.ts': 'about the GPIO pin through the agent process',
  'test/status/browser.test.ts': 'about the page in a real browser (8 s of Chromium)',
};

// Broker-facing files the RabbitMQ run leaves out, with the reason. Its node is shared by a
// worker's test worlds, so it is never stopped or killed under one; the cluster soak
// (`npm run soak`) kills and restarts real RabbitMQ nodes instead.
const NOT_ON_RABBITMQ: Record<string, string> = {
  'test/reliability/durability.test.ts': 'kills and restarts the broker process',
  'test/reliability/reports.test.ts': 'kills and restarts the broker process',
  'test/reliability/owed-sessions.test.ts': 'stops and kills the broker process',
  'test/slack/scale-out.test.ts': 'shared subscriptions ($share): RabbitMQ 3.x has none',
};

function brokerFacingTests(): string[] {
  const root = fileURLToPath(new URL('.', import.meta.url));
  const files = readdirSync(`${root}test`, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/${f.replaceAll('\\', '/')}`);
  const usesBroker = /\bstartBroker\(|BELLHOP_TEST_BROKER/;
  return files.filter((f) => !(f in AEDES_ONLY) && !(f in ONCE_IS_ENOUGH) && usesBroker.test(readFileSync(`${root}${f}`, 'utf8')));
}

const mosquitto = mosquittoBinary();
if (!mosquitto) console.warn(`[vitest] skipping the Mosquitto run of the integration suite: ${MOSQUITTO_MISSING}`);
const rabbitmq = rabbitmqServerScript();
if (!rabbitmq) console.warn(`[vitest] skipping the RabbitMQ run of the integration suite: ${RABBITMQ_MISSING}`);

// Settings both projects share (a project does not inherit `include` lists: they would merge).
const shared = {
  testTimeout: 20_000,
  hookTimeout: 20_000,
  pool: 'forks',
} as const;

export default defineConfig({
  test: {
    ...shared,
    // Two cores: run files two at a time (across both projects) so timing-sensitive
    // integration tests are not starved.
    maxWorkers: 2,
    projects: [
      { test: { ...shared, name: 'aedes', include: ['test/**/*.test.ts'] } },
      ...(mosquitto
        ? [{ test: { ...shared, name: 'mosquitto', include: brokerFacingTests(), env: { BELLHOP_TEST_BROKER: 'mosquitto' } } }]
        : []),
      ...(rabbitmq
        ? [
            {
              test: {
                ...shared,
                name: 'rabbitmq',
                include: brokerFacingTests().filter((f) => !(f in NOT_ON_RABBITMQ)),
                env: { BELLHOP_TEST_BROKER: 'rabbitmq' },
                globalSetup: ['test/helpers/rabbitmq-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
