// What the agent's memory is compared with: a bare `node` (no argument), or a bare `node` that
// imports mqtt.js and connects to the broker at argv[2] and subscribes, as an agent would.
const [mqttUrl] = process.argv.slice(2);
if (mqttUrl) {
  const { default: mqtt } = await import('mqtt');
  const client = mqtt.connect(mqttUrl, { protocolVersion: 4, clientId: `bench-bare-${process.pid}` });
  client.once('connect', () => {
    void client.subscribeAsync('bellhop/events/user/signup', { qos: 1 }).then(() => process.stdout.write('bare node + mqtt.js connected\n'));
  });
} else {
  setInterval(() => undefined, 60_000);
  process.stdout.write('bare node ready\n');
}
process.on('SIGTERM', () => process.exit(0));
