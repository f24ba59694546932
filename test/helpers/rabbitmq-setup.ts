// Global setup of the "rabbitmq" vitest project: one RabbitMQ node per vitest worker for the
// whole run (a node boots in ~10 s; a node per test world would take minutes), each with a
// few MQTT ports, each pointed at a new vhost per test world (rabbitmq.ts). Tests find theirs with inject('rabbitmqNodes').
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePorts, RabbitmqNode, type RabbitmqNodeInfo } from './rabbitmq-node.js';

declare module 'vitest' {
  export interface ProvidedContext {
    rabbitmqNodes: RabbitmqNodeInfo[];
  }
}

/** Test worlds one file may hold at once on its worker's node. */
const PORTS_PER_NODE = 6;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const workers = Number(project.config.maxWorkers) || 1;
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-rabbitmq-'));
  // All at once: a port freed and asked for again can come back, and two nodes would share it.
  const ports = await freePorts(workers * (PORTS_PER_NODE + 2));
  const nodes: RabbitmqNode[] = [];
  for (let i = 0; i < workers; i++) {
    const [apiPort, distPort, ...mqttPorts] = ports.splice(0, PORTS_PER_NODE + 2) as [number, number, ...number[]];
    nodes.push(new RabbitmqNode({ dir: join(dir, `node${i}`), name: `bellhop-test-${process.pid}-${i}@localhost`, apiPort, distPort, mqttPorts }));
  }
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
  } catch (err) {
    await stopAll();
    throw err;
  }
  project.provide('rabbitmqNodes', nodes.map((n) => n.info));
  return stopAll;
}
