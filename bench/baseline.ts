// The bare baseline the ingest figure is compared with: node:http + mqtt.js, no
// validation, no auth, 202 after the broker's PUBACK, to the same broker.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';

const [mqttUrl] = process.argv.slice(2);
const client = mqtt.connect(mqttUrl!, { protocolVersion: 4 });
client.once('connect', () => {
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      client.publish('bellhop/events/baseline', body, { qos: 1 }, (err) => {
        res.writeHead(err ? 503 : 202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ids: [randomUUID()] }));
      });
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`baseline listening on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
});
