// The one "URL from a bind address": a wildcard bind is reached on loopback, and an IPv6
// literal is bracketed, so `broker.host: '::1'` gives mqtt://[::1]:1883, not mqtt://::1:1883.

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

export function connectableUrl(scheme: string, host: string, port: number): string {
  const reachable = WILDCARDS.has(host) ? '127.0.0.1' : host;
  const bracketed = reachable.includes(':') && !reachable.startsWith('[') ? `[${reachable}]` : reachable;
  return `${scheme}://${bracketed}:${port}`;
}
