// Closed loop: `connections` keep-alive clients (autocannon), each sending the next event as
// soon as the last one was answered, for a duration or a number of events.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface ClosedLoopFigures {
  /** 2xx answers per second of the run. */
  eventsPerSecond: number;
  accepted: number;
  /** Non-2xx answers, errors and timeouts. */
  refused: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

export const EVENT_BODY = JSON.stringify({ type: 'user.signup', data: { email: 'a@example.com', plan: 'pro' } });

export async function closedLoop(url: string, token: string, connections: number, run: { seconds: number } | { amount: number }): Promise<ClosedLoopFigures> {
  const t0 = performance.now();
  const result = await autocannon({
    url: `${url}/v1/events`,
    method: 'POST',
    connections,
    ...('amount' in run ? { amount: run.amount } : { duration: run.seconds }),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: EVENT_BODY,
  });
  const accepted = result['2xx'];
  // autocannon rounds a run of `amount` up to its next 1 s sample; time that one here.
  const seconds = 'amount' in run ? (performance.now() - t0) / 1000 : result.duration;
  return {
    eventsPerSecond: Math.round(accepted / seconds),
    accepted,
    refused: result.non2xx + result.errors + result.timeouts,
    seconds: Math.round(seconds * 100) / 100,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}
