// The one back-off formula every retry loop uses (MQTT reconnects, Slack lanes, Socket Mode,
// the HTTP client): the wait doubles after each failure up to a ceiling, and jitter only ever
// shortens it, so a room full of bells does not stampede a broker that comes back and the
// ceiling still holds.

export interface BackoffRules {
  baseMs: number;
  maxMs: number;
  /** 0..1, the share of each wait that is random; default 0.2. */
  jitter?: number;
  random?: () => number;
}

/** The wait before retry number `failures` (1 = after the first failure). */
export function backoffDelay(failures: number, rules: BackoffRules): number {
  const { baseMs, maxMs, jitter = 0.2, random = Math.random } = rules;
  const plain = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.max(1, Math.round(plain * (1 - jitter * random())));
}
