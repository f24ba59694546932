// Turns a YAML file, ${…} references and BELLHOP_* variables into a checked Config.
// Every mistake found becomes one line of a single ConfigError, so a config is fixed in
// one round, not one restart per typo; each line starts with the key path.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Value } from '@sinclair/typebox/value';
import { Kind, type TSchema } from '@sinclair/typebox';
import { ConfigSchema, type Config } from './schema.js';
import { sourcesProblems } from './sections/sources.js';
import { EVENT_TYPES, makeTypeFilter } from '../event-types.js';
import { closest } from './suggest.js';
import { formatProblems, isWithin, originLabel, schemaProblem, yamlProblems, type Problem } from './problems.js';

export class ConfigError extends Error {
  /** Each problem on its own line of `message`; the first alone reads as before. */
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const lines = typeof problems === 'string' ? [problems] : [...problems];
    super(lines.join('\n'));
    this.name = 'ConfigError';
    this.problems = lines;
  }
}

/** Environment variables that override the file (documented in the README). */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: string[] }> = [
  { env: 'BELLHOP_HTTP_PORT', path: ['server', 'port'] },
  { env: 'BELLHOP_MQTT_PORT', path: ['broker', 'port'] },
  { env: 'BELLHOP_MQTT_URL', path: ['mqtt', 'url'] },
  { env: 'BELLHOP_DATA_DIR', path: ['dataDir'] },
  { env: 'BELLHOP_DATA_SYNC', path: ['dataSync'] },
  { env: 'BELLHOP_GPIO_DRIVER', path: ['device', 'gpio', 'driver'] },
  { env: 'BELLHOP_GPIO_PIN', path: ['device', 'gpio', 'pin'] },
  { env: 'BELLHOP_LOG_LEVEL', path: ['log', 'level'] },
  { env: 'BELLHOP_LOG_FORMAT', path: ['log', 'format'] },
  { env: 'BELLHOP_DEVICE_ID', path: ['device', 'id'] },
  { env: 'SLACK_BOT_TOKEN', path: ['slack', 'botToken'] },
  { env: 'SLACK_APP_TOKEN', path: ['slack', 'appToken'] },
  { env: 'SLACK_API_URL', path: ['slack', 'apiUrl'] },
  { env: 'BELLHOP_SLACK_CHANNEL', path: ['slack', 'defaultChannel'] },
];

type Env = Record<string, string | undefined>;

export interface LoadOptions {
  /** Path of the YAML file; falls back to BELLHOP_CONFIG; none means defaults only. */
  file?: string | undefined;
  env?: Env;
  /** Extra raw settings merged over the file (used by tests and the CLI). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.BELLHOP_CONFIG;
  let raw: unknown = {};
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`config file ${file}: not found`);
    const text = readFileSync(file, 'utf8');
    // Loaded only for a file (and synchronously: loadConfig is sync): a process on defaults and env never pays for it.
    const { parseDocument } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new ConfigError(yamlProblems(file, text, doc.errors));
    raw = doc.toJS() ?? {};
    if (!isPlainObject(raw)) throw new ConfigError(`config file ${file}: expected a mapping of settings at the top`);
  }
  // Which variable each value came from, so a bad one is reported under the name the user set.
  const origins = new Map<string, string>();
  const problems: Problem[] = [];
  const substituted = substitute(raw, [], env, { problems, origins });
  const overrides = opts.overrides ?? {};
  for (const key of [...origins.keys()]) if (hasPath(overrides, key)) origins.delete(key);
  const merged = deepMerge(substituted, overrides);
  applyEnvOverrides(merged, env, origins);
  return checkConfig(merged, problems, origins);
}

/** Checks raw settings against the schema and fills in defaults. */
export function parseConfig(raw: unknown): Config {
  return checkConfig(raw, [], new Map());
}

function checkConfig(raw: unknown, early: Problem[], origins: ReadonlyMap<string, string>): Config {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw ?? {}));
  const problems = [...early, ...[...Value.Errors(ConfigSchema, withDefaults)].map(schemaProblem)];
  const config = withDefaults as Config;
  for (const { reads, check } of CROSS_CHECKS) {
    // A check reading a key that is already wrong would see a bad value (or crash on one).
    if (problems.some((p) => reads.some((key) => isWithin(p.path, key) || isWithin(key, p.path)))) continue;
    problems.push(...check(config));
  }
  if (problems.length > 0) throw new ConfigError(formatProblems(problems, origins));
  return config;
}

/** Rules across keys that the schema cannot state, each with the keys it reads. */
const CROSS_CHECKS: ReadonlyArray<{ reads: string[]; check: (config: Config) => Problem[] }> = [
  {
    reads: ['sources'],
    check: (config) =>
      sourcesProblems(config.sources).map((line) => {
        const at = line.indexOf(': ');
        return { path: line.slice(0, at), text: line.slice(at + 2) };
      }),
  },
  {
    // The schema checks the first URL; a cluster's other nodes come after commas.
    reads: ['mqtt.url'],
    check: ({ mqtt }) =>
      (mqtt.url ?? '')
        .split(',')
        .slice(1)
        .filter((u) => !/^(mqtts?|wss?|tcp|tls):\/\/[^\s]+$/.test(u.trim()))
        .map((u) => ({ path: 'mqtt.url', text: `every node URL must start with mqtt://, mqtts://, ws://, wss://, tcp:// or tls:// (got ${JSON.stringify(u.trim().replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@'))})` })),
  },
  {
    reads: ['slack.shareGroup', 'mqtt.url'],
    check: (config) =>
      config.slack.shareGroup && !config.mqtt.url
        ? [{ path: 'slack.shareGroup', text: 'shared subscriptions need an external broker (set mqtt.url); the embedded aedes has none' }]
        : [],
  },
  {
    // A typo here rings nothing, silently: the bell subscribes to a type no one ever publishes.
    reads: ['device.events', 'server.eventTypes'],
    check: ({ device, server }) => {
      const known = makeTypeFilter(server.eventTypes);
      return device.events.flatMap((type, i) => {
        if (known(type)) return [];
        const near = closest(type, Object.keys(EVENT_TYPES));
        const hint = near ? ` (did you mean ${near}?)` : '';
        return [{ path: `device.events.${i}`, text: `"${type}" is not an event type bellhop accepts${hint}, so the bell would never ring for it; an app's own type goes in server.eventTypes too` }];
      });
    },
  },
  {
    reads: ['device.id'],
    check: (config) => (config.device.id === 'all' ? [{ path: 'device.id', text: '"all" is reserved for the broadcast topic' }] : []),
  },
  {
    reads: ['device.bell'],
    check: ({ device: { bell } }) =>
      bell.pulseMs > bell.maxPulseMs ? [{ path: 'device.bell.pulseMs', text: `${bell.pulseMs} is above device.bell.maxPulseMs (${bell.maxPulseMs})` }] : [],
  },
  {
    reads: ['broker.host', 'broker.users'],
    check: ({ broker }) =>
      !isLoopback(broker.host) && broker.users.length === 0
        ? [{ path: 'broker.users', text: `required when broker.host (${broker.host}) is not a loopback address` }]
        : [],
  },
  {
    reads: ['broker.users'],
    check: ({ broker }) =>
      broker.users.flatMap((u, i) =>
        broker.users.findIndex((other) => other.username === u.username) < i ? [{ path: `broker.users.${i}.username`, text: `"${u.username}" appears twice` }] : [],
      ),
  },
];

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const REF = /\$\{(file:)?([^}]+)\}/g;

interface Found {
  problems: Problem[];
  origins: Map<string, string>;
}

/** Replaces ${VAR} with the environment's value and ${file:/path} with a file's trimmed text.
 *  A reference that cannot be resolved stays as written and becomes a problem on its key. */
function substitute(value: unknown, path: string[], env: Env, found: Found): unknown {
  if (typeof value === 'string') {
    const where = path.join('.');
    const labels: string[] = [];
    let failed = false;
    const out = value.replace(REF, (ref: string, isFile: string | undefined, name: string) => {
      const resolved = isFile ? readRef(name) : env[name];
      if (typeof resolved === 'string') {
        labels.push(originLabel(ref, resolved, where));
        return resolved;
      }
      failed = true;
      found.problems.push({ path: where, text: resolved === undefined ? `environment variable ${name} is not set` : `cannot read ${name}: ${resolved.code}` });
      return ref;
    });
    if (labels.length > 0 && !failed) found.origins.set(where, labels.join(', '));
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, [...path, String(i)], env, found));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, [...path, k], env, found)]));
  }
  return value;
}

/** A file's trimmed text, or the error code that kept it from being read. */
function readRef(file: string): string | { code: string } {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    return { code: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}

function applyEnvOverrides(target: Record<string, unknown>, env: Env, origins: Map<string, string>): void {
  for (const { env: name, path } of ENV_OVERRIDES) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    setPath(target, path, coerce(v, schemaAt(path)));
    origins.set(path.join('.'), originLabel(name, v, path.join('.')));
  }
  if (env.BELLHOP_API_TOKEN) {
    const server = ensureObject(target, 'server');
    const tokens = Array.isArray(server.tokens) ? server.tokens : [];
    server.tokens = [...tokens, { name: 'env', token: env.BELLHOP_API_TOKEN }];
    origins.set(`server.tokens.${tokens.length}.token`, originLabel('BELLHOP_API_TOKEN', env.BELLHOP_API_TOKEN, 'server.tokens.token'));
  }
}
/** The schema of one key, walked down from the top (every ENV_OVERRIDES path is a plain object path). */
function schemaAt(path: string[]): TSchema | undefined {
  let node: TSchema | undefined = ConfigSchema;
  for (const key of path) node = (node as { properties?: Record<string, TSchema> } | undefined)?.properties?.[key];
  return node;
}

/** An environment string as the key's type wants it, so BELLHOP_DEVICE_ID=42 stays the string "42". */
function coerce(value: string, schema: TSchema | undefined): unknown {
  const kinds = kindsOf(schema);
  if ((kinds.has('Integer') || kinds.has('Number')) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (kinds.has('Boolean') && (value === 'true' || value === 'false')) return value === 'true';
  // Anything else goes in as given; the schema check then names the key if it is wrong.
  return value;
}

function kindsOf(schema: TSchema | undefined): Set<string> {
  if (!schema) return new Set();
  const s = schema as TSchema & { anyOf?: TSchema[] };
  if (s.anyOf) return new Set(s.anyOf.flatMap((branch) => [...kindsOf(branch)]));
  return new Set([String(s[Kind])]);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = ensureObject(node, key);
  node[path[path.length - 1]!] = value;
}

function ensureObject(node: Record<string, unknown>, key: string): Record<string, unknown> {
  const existing = node[key];
  if (isPlainObject(existing)) return existing;
  const created: Record<string, unknown> = {};
  node[key] = created;
  return created;
}

function deepMerge(base: unknown, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k], v) : v;
  }
  return out;
}

/** Whether `raw` sets the dotted `path` (through mappings and lists). */
function hasPath(raw: unknown, path: string): boolean {
  let node: unknown = raw;
  for (const key of path.split('.')) {
    if (!isPlainObject(node) && !Array.isArray(node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
