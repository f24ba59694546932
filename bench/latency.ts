// Open loop: events sent at a fixed rate whatever the answers (keep-alive connections, a new
// one when all are busy), timing each HTTP answer and, with `observe`, each event's strike.
//
// HTTP-to-GPIO from outside the process: the bell agent publishes a `rang` report on
// <prefix>/devices/<id>/rang for every event it handled, with `at` = its Date.now() (whole
// ms) when the strike's pulse ended. The pin went high `pulseMs` before that, so
// GPIO time = Date.parse(at) - pulseMs. The send time is taken on the same clock: every
// process here runs on one machine and Date.now() reads the one CLOCK_REALTIME; this process
// uses performance.now() plus an offset to Date.now() found at the instant Date.now() ticks
// over, so a send time has sub-ms precision. Error of each figure: `at` is truncated to the
// ms (up to 1 ms early) and the pulse's timer may overrun its pulseMs (a little late).
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { parseRang } from '../shared/messages.js';

export interface OpenLoopOptions {
  url: string;
  token: string;
  rate: number;
  seconds: number;
  /** Event ids are `${idPrefix}-${i}`: unique over the run, as the agent drops ids it has seen. */
  idPrefix: string;
  observe?: { mqttUrl: string; topicPrefix: string; pulseMs: number };
}

export interface OpenLoopResult {
  sent: number;
  accepted: number;
  failed: number;
  /** Send to the last byte of the answer, per accepted event. */
  httpMs: number[];
  /** Send to pin high, per event that struck (only with `observe`). */
  gpioMs: number[];
  /** Reports without a strike, by reason (e.g. muted, rate-cap). */
  suppressed: Record<string, number>;
  /** Accepted events no report came for within 5 s of the last answer. */
  unreported: number;
  /** From the first send to the last answer. */
  wallMs: number;
}

function post(agent: Agent, url: URL, token: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Date.now() - performance.now(), taken when Date.now() ticks to the next ms. */
export function wallClockOffset(): number {
  const start = Date.now();
  let now = start;
  while (now === start) now = Date.now();
  return now - performance.now();
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const offset = wallClockOffset();
  const sentAt = new Map<string, number>();
  const gpioMs: number[] = [];
  const suppressed: Record<string, number> = {};
  let reported = 0;
  let observer: mqtt.MqttClient | undefined;
  if (o.observe) {
    const { mqttUrl, topicPrefix, pulseMs } = o.observe;
    observer = mqtt.connect(mqttUrl, { protocolVersion: 4, clean: true, clientId: `bench-observer-${process.pid}-${o.idPrefix}`, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => observer!.once('connect', () => resolve()).once('error', reject));
    observer.on('message', (_topic, payload) => {
      const report = parseRang(payload);
      const t0 = report && sentAt.get(report.eventId);
      if (!report || t0 === undefined) return;
      sentAt.delete(report.eventId);
      reported++;
      if (report.strikes > 0) gpioMs.push(Date.parse(report.at) - pulseMs - t0);
      else suppressed[report.suppressed ?? 'none'] = (suppressed[report.suppressed ?? 'none'] ?? 0) + 1;
    });
    await observer.subscribeAsync(`${topicPrefix}/devices/+/rang`, { qos: 0 });
  }

  const http = new Agent({ keepAlive: true, maxSockets: 64 });
  const url = new URL(`${o.url}/v1/events`);
  const total = Math.round(o.rate * o.seconds);
  const interval = 1000 / o.rate;
  const httpMs: number[] = [];
  let accepted = 0;
  let failed = 0;
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 0.5) await new Promise((r) => setTimeout(r, wait));
    const id = `${o.idPrefix}-${i}`;
    const t0 = performance.now();
    if (observer) sentAt.set(id, t0 + offset);
    pending.push(
      post(http, url, o.token, JSON.stringify({ type: 'user.signup', id, data: { email: `u${i}@example.com`, plan: 'pro' } })).then((status) => {
        if (status >= 200 && status < 300) {
          accepted++;
          httpMs.push(performance.now() - t0);
        } else {
          failed++;
          sentAt.delete(id);
        }
      }),
    );
  }
  await Promise.all(pending);
  const wallMs = performance.now() - start;
  http.destroy();
  if (observer) {
    const deadline = performance.now() + 5000;
    while (reported < accepted && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await observer.endAsync();
  }
  return { sent: total, accepted, failed, httpMs, gpioMs, suppressed, unreported: observer ? accepted - reported : 0, wallMs };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
