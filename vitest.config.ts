// Two runs in one `npm test`: every test against the embedded aedes broker, then the
// broker-facing tests again against a real Mosquitto (BELLHOP_TEST_BROKER=mosquitto makes
// test/helpers/world.ts's startBroker start one). A test file is broker-facing when it
// calls startBroker( or reads BELLHOP_TEST_BROKER; tests of the embedded broker itself
// build BrokerPart directly and so run once.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { mosquittoBinary, MOSQUITTO_MISSING } from './test/helpers/mosquitto.js';

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
    ],
  },
});
