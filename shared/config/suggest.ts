// What to say about a key the schema does not allow: most are typos of a real key,
// and a few are keys people expect from other tools (an "enabled" switch) that bellhop
// answers differently, so the line says what does the job instead.

/** Keys people reach for that bellhop has no switch for: what turns the thing on instead. */
const HINTS: Readonly<Record<string, string>> = {
  'slack.enabled': 'Slack turns on when slack.botToken (SLACK_BOT_TOKEN) is set, and runs as a dry run without it',
  'device.enabled': 'the bell runs wherever `bellhop agent` or `bellhop start` runs; device.gpio.driver: sim keeps it off the real pin',
  'broker.enabled': 'the embedded broker runs unless mqtt.url (BELLHOP_MQTT_URL) names another one',
  'sources.enabled': 'each source has its own switch, e.g. sources.github.enabled',
};

/** Names too far from the real key for an edit distance to find, yet meant as it. */
const ALIASES: Readonly<Record<string, string>> = {
  'slack.channel': 'defaultChannel',
  'slack.token': 'botToken',
  'device.pin': 'gpio.pin',
};

/** The text after "path: " for a key that is not in the schema at its level. */
export function unknownKeyText(path: string, allowed: readonly string[]): string {
  const hint = HINTS[path];
  if (hint) return `unknown key; ${hint}`;
  const key = path.split('.').pop() ?? '';
  const close = ALIASES[path] ?? closest(key, allowed);
  return close ? `unknown key (did you mean ${close}?)` : 'unknown key';
}

/** The allowed key nearest to `key`, if near enough to be a typo; ties are all offered. */
export function closest(key: string, allowed: readonly string[]): string | undefined {
  // Case and separators do not count, so default_channel finds defaultChannel.
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string[] = [];
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = distance(norm(key), norm(candidate));
    // A quarter of the word may be wrong (at least one letter, at most three): enough for
    // typos, not so much that "port" suggests "host".
    if (d > Math.min(3, Math.max(1, Math.floor(candidate.length / 4)))) continue;
    if (d < bestDistance) [best, bestDistance] = [[candidate], d];
    else if (d === bestDistance) best.push(candidate);
  }
  return best.length > 0 ? best.join(' or ') : undefined;
}

/** Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment). */
export function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => rows[i]![j]!;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, at(i - 2, j - 2) + 1);
      rows[i]![j] = d;
    }
  }
  return at(a.length, b.length);
}
