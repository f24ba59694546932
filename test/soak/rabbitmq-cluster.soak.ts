// Fault run: a two-node RabbitMQ cluster (the MQTT plugin), 3,000 sign-ups at 200/s, and
// the node the server and the bell connect to first SIGKILLed mid-stream and restarted.
// Every part names both nodes in mqtt.url (the server and the bell node 1 first, the Slack
// sink and the witness node 2 first), so a part that loses its node moves to the other.
// Figures: accepted, delivered once, lost, doubled (Slack and bell), who was on the killed
// node, and each part's longest pause around the kill. A persistent session is a classic
// queue on the node it was made on; SOAK_QUORUM=1 makes sessions quorum queues instead.
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { EventInput } from '../../shared/envelope.js';
import { freePorts, managementApi, RabbitmqNode, rabbitmqServerScript } from '../helpers/rabbitmq-node.js';
import { tempDir, waitFor } from '../helpers/world.js';
import { drain, sightings, tally } from './eye.js';
import { recordFigures } from './figures.js';
import { classify, sendStream } from './send.js';
import { soakWorld, type SoakBroker, type SoakWorld } from './world.js';

const COUNT = Number(process.env.SOAK_EVENTS ?? 3000);
const RATE = 200;
const KILL_AT = Math.floor(COUNT * 0.4);
const DOWN_MS = 5000;
const ID = /rc-\d{5}/;

let world: SoakWorld | undefined;
let nodes: RabbitmqNode[] = [];
const root = tempDir('bellhop-rabbit-cluster-');
afterAll(async () => {
  await world?.close();
  for (const n of nodes) await n.stop().catch(() => undefined);
  root.remove();
});

async function cluster(): Promise<{ nodes: RabbitmqNode[]; urls: string[] }> {
  const ports = await freePorts(6);
  const names = [1, 2].map((i) => `bellhop-soak-${process.pid}-${i}@localhost`);
  const peers = ['cluster_formation.peer_discovery_backend = classic_config', ...names.map((n, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${n}`)];
  const quorum = process.env.SOAK_QUORUM === '1' ? ['mqtt.durable_queue_type = quorum'] : [];
  const made = names.map(
    (name, i) => new RabbitmqNode({ dir: join(root.path, `node${i + 1}`), name, apiPort: ports[i * 3]!, distPort: ports[i * 3 + 1]!, mqttPorts: [ports[i * 3 + 2]!], extraConf: [...peers, ...quorum] }),
  );
  // One after the other: the second joins the first at boot.
  for (const n of made) await n.start(90_000);
  return { nodes: made, urls: made.map((n) => `mqtt://127.0.0.1:${n.info.mqttPorts[0]}`) };
}

/** The client ids connected through `node` (its own connections only, as the management API lists them). */
async function clientsOn(node: RabbitmqNode): Promise<string> {
  const res = await managementApi(node.info.apiPort, 'GET', '/connections?columns=node,client_properties.client_id');
  const all = JSON.parse(res.text) as Array<{ node: string; client_properties?: { client_id?: string } }>;
  return all
    .filter((c) => c.node === node.info.name)
    .map((c) => c.client_properties?.client_id ?? '?')
    .map((id) => id.replace(/-[0-9a-f-]{8,}$|-\d+$/, ''))
    .sort()
    .join(' ');
}

it.runIf(rabbitmqServerScript())('delivers every accepted event once while a node of a two-node RabbitMQ cluster is killed and restarted', async () => {
  const c = await cluster();
  nodes = c.nodes;
  const [u1, u2] = c.urls as [string, string];
  const broker: SoakBroker = {
    kind: 'rabbitmq-cluster',
    url: `${u2},${u1}`,
    start: async () => undefined,
    stop: async () => undefined,
    kill: async () => undefined,
    describe: () => nodes.map((n) => `${n.info.name}: ${n.log.slice(-1500)}`).join('\n'),
  };
  const w = await soakWorld({
    broker,
    urls: { server: `${u1},${u2}`, agent: `${u1},${u2}`, slack: `${u2},${u1}` },
    slack: { routes: [{ match: {}, channel: '#soak-{data.shard}' }], digest: { threshold: 5, windowMs: 5000, maxListed: 45 } },
  });
  world = w;

  const start = Date.now();
  let killedAt = 0;
  let onKilledNode = '';
  let restartedAt = 0;
  let crash: Promise<void> | undefined;
  const killNodeOne = (n: number) => {
    if (n === KILL_AT)
      crash = (async () => {
        onKilledNode = await clientsOn(nodes[0]!);
        killedAt = Date.now() - start;
        await nodes[0]!.stop('SIGKILL');
        await new Promise((r) => setTimeout(r, DOWN_MS));
        await nodes[0]!.start(90_000);
        restartedAt = Date.now() - start;
      })();
  };
  const signup = (n: number): EventInput & { id: string } => {
    const id = `rc-${String(n).padStart(5, '0')}`;
    return { type: 'user.signup', id, subject: id, data: { shard: String(n % 50).padStart(3, '0') } };
  };
  const stream = await sendStream({ url: w.serverUrl, count: COUNT, senders: 4, ratePerSecond: RATE, beforeSend: killNodeOne, event: signup });
  await crash;
  const { accepted, refused, other } = classify(stream.answers);
  const drained = await drain(w.fake, ID, accepted, { giveUpQuietMs: 15_000, deadlineMs: 120_000 });
  await waitFor(() => accepted.every((id) => w.witness.rangs.some((r) => r.eventId === id)), { timeoutMs: 30_000, intervalMs: 250, what: 'a rang report for every accepted event' }).catch(() => undefined);

  const slack = tally(accepted, sightings(w.fake, ID).perId);
  const perBell = new Map<string, number>();
  for (const id of new Set(w.witness.rangs.map((r) => r.eventId))) perBell.set(id, new Set(w.witness.rangs.filter((r) => r.eventId === id).map((r) => JSON.stringify(r))).size);
  const bell = tally(accepted, perBell);
  // How long each part stood still around the kill: the longest pause between two of its
  // results (202s answered, strikes reported, Slack calls) from 1 s before the kill to 10 s after.
  const around = (times: number[]) => {
    const t = times.filter((x) => x >= killedAt - 1000 && x <= killedAt + 10_000).sort((x, y) => x - y);
    return t.slice(1).reduce((max, x, i) => Math.max(max, x - t[i]!), 0);
  };
  const serverPauseMs = around(stream.answers.filter((a) => a.status === 202).map((a) => a.answeredAtMs));
  const bellPauseMs = around(w.witness.rangs.map((r) => Date.parse(r.at) - start));
  const slackPauseMs = around(w.fake.calls.filter((call) => call.method === 'chat.postMessage').map((call) => call.at - start));

  recordFigures('rabbitmq-cluster', {
    sent: stream.answers.length,
    accepted: accepted.length,
    refused: refused.length,
    otherAnswers: other.length,
    clientsOnKilledNode: onKilledNode,
    nodeKilledAtMs: killedAt,
    nodeBackAtMs: restartedAt,
    serverLongestPauseMs: serverPauseMs,
    bellLongestPauseMs: bellPauseMs,
    slackLongestPauseMs: slackPauseMs,
    slackOnce: slack.once,
    slackDuplicated: slack.duplicated,
    slackLost: slack.lost,
    bellOnce: bell.once,
    bellDuplicated: bell.duplicated,
    bellLost: bell.lost,
    drainSeconds: Math.round(drained.ms / 100) / 10,
    quorumSessions: process.env.SOAK_QUORUM === '1',
  });
  expect.soft(other, 'every answer is a 2xx, a 503 or a 504').toEqual([]);
  expect.soft({ lost: slack.lost, duplicated: slack.duplicated }, `Slack: lost ${slack.examples.lost.join(' ')}`).toEqual({ lost: 0, duplicated: 0 });
  expect.soft({ lost: bell.lost, duplicated: bell.duplicated }, `bell: lost ${bell.examples.lost.join(' ')}\n${w.describe().slice(-4000)}`).toEqual({ lost: 0, duplicated: 0 });
});
