// (b) Latency from "HTTP request sent" to "GPIO pin written high", at a steady rate.
// The agent runs in this process on the mock driver so both ends share one clock.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../shared/config/load.js';
import { createLogger } from '../shared/logger.js';
import { AgentPart } from '../device/agent.js';
import { MockGpioDriver } from '../device/gpio/mock.js';

export interface LatencyFigures {
  rate: number;
  seconds: number;
  sent: number;
  rung: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

function post(agent: Agent, url: URL, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function measureLatency(serverUrl: string, mqttUrl: string, token: string, rate: number, seconds: number): Promise<LatencyFigures> {
  const config = parseConfig({
    mqtt: { url: mqttUrl },
    device: {
      id: `bench-bell-${process.pid}`,
      events: ['user.signup'],
      gpio: { driver: 'mock' },
      // Permissive limits so the pipeline, not the safety rules, is what gets measured.
      bell: { pulseMs: 1, gapMs: 0, minGapMs: 0, maxStrikesPerMinute: 60_000 },
    },
  });
  const driver = new MockGpioDriver(() => performance.now());
  let lastHigh = 0;
  driver.onWrite((w) => {
    if (w.value === 1) lastHigh = w.at;
  });
  const agent = new AgentPart({ config, driver, logger: createLogger('warn') });
  const subscribed = new Promise<void>((r) => agent.once('subscribed', r));
  await agent.start();
  await subscribed;

  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const warmup = rate; // the first second warms the JIT up and is not counted
  agent.on('rang', (report) => {
    const t0 = sentAt.get(report.eventId);
    if (t0 !== undefined && report.strikes > 0) latencies.push(lastHigh - t0);
  });

  const http = new Agent({ keepAlive: true, maxSockets: 32 });
  const url = new URL(`${serverUrl}/v1/events`);
  const total = warmup + rate * seconds;
  const interval = 1000 / rate;
  const start = performance.now();
  const pending: Array<Promise<number>> = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const id = `lat-${process.pid}-${i}`;
    if (i >= warmup) sentAt.set(id, performance.now());
    pending.push(post(http, url, token, JSON.stringify({ type: 'user.signup', id })));
  }
  await Promise.all(pending);
  const deadline = performance.now() + 5000;
  while (latencies.length < rate * seconds && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await agent.stop();
  http.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rate,
    seconds,
    sent: rate * seconds,
    rung: latencies.length,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies[latencies.length - 1] ?? NaN),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
