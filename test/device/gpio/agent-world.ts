// What the GPIO tests that run the built agent share: a broker, the agent's config file with
// the bell on BCM pin 17, and a watcher of its rang reports and state.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toEnvelope } from '../../../shared/envelope.js';
import { parseRang, type RangReport } from '../../../shared/messages.js';
import { connectClient, startBroker, tempDir, testConfig, waitFor } from '../../helpers/world.js';

let n = 0;

export async function agentWorld(o: { idPrefix: string; gpio: Record<string, unknown>; bell?: Record<string, unknown>; cleanups: Array<() => unknown> }) {
  const broker = await startBroker(testConfig());
  o.cleanups.push(() => broker.stop());
  const deviceId = `${o.idPrefix}-${process.pid}-${++n}`;
  const dir = tempDir();
  o.cleanups.push(() => dir.remove());
  const configFile = join(dir.path, 'agent.json');
  const device = { id: deviceId, gpio: { pin: 17, ...o.gpio }, bell: { pulseMs: 120, maxPulseMs: 150, ...o.bell } };
  writeFileSync(configFile, JSON.stringify({ dataDir: dir.path, log: { level: 'info' }, mqtt: { url: broker.url }, device }));
  const watcher = await connectClient(broker.url);
  o.cleanups.push(() => watcher.endAsync());
  const seen = { rang: [] as RangReport[], states: 0 };
  watcher.on('message', (topic, payload) => {
    if (topic.endsWith('/rang')) {
      const r = parseRang(payload);
      if (r) seen.rang.push(r);
    }
    if (topic.endsWith('/state')) seen.states++;
  });
  await watcher.subscribeAsync([`bellhop/devices/${deviceId}/rang`, `bellhop/devices/${deviceId}/state`], { qos: 1 });
  const subscribed = () => waitFor(() => seen.states > 0, { what: "the agent's first state message (subscribed)" });
  const ding = (data: Record<string, unknown> = {}) =>
    watcher.publishAsync(`bellhop/devices/${deviceId}/ding`, JSON.stringify(toEnvelope({ type: 'bell.test', data }, { source: 'test' })), { qos: 1 });
  return { broker, deviceId, configFile, watcher, seen, subscribed, ding };
}
