// (a) Accepted events per second with concurrent clients: bellhop vs the baseline.
import autocannon from 'autocannon';

export interface IngestFigures {
  eventsPerSecond: number;
  accepted: number;
  refused: number;
  p99Ms: number;
}

export async function measureIngest(url: string, token: string, seconds: number, connections: number): Promise<IngestFigures> {
  const result = await autocannon({
    url: `${url}/v1/events`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'user.signup', data: { email: 'a@example.com', plan: 'pro' } }),
  });
  const accepted = result['2xx'];
  return {
    eventsPerSecond: Math.round(accepted / seconds),
    accepted,
    refused: result.non2xx + result.errors + result.timeouts,
    p99Ms: result.latency.p99,
  };
}
