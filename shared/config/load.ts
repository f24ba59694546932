// Turns a YAML file, ${…} references and BELLHOP_* variables into a checked Config.
// Every mistake becomes a ConfigError whose message starts with the key path.
import { readFileSync, existsSync } from 'node:fs';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { Kind, type TSchema } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config } from './schema.js';
import { sourcesProblem } from './sections/sources.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Environment variables that override the file (documented in the README). */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: string[] }> = [
  { env: 'BELLHOP_HTTP_PORT', path: ['server', 'port'] },
  { env: 'BELLHOP_MQTT_PORT', path: ['broker', 'port'] },
  { env: 'BELLHOP_MQTT_URL', path: ['mqtt', 'url'] },
  { env: 'BELLHOP_DATA_DIR', path: ['dataDir'] },
  { env: 'BELLHOP_GPIO_DRIVER', path: ['device', 'gpio', 'driver'] },
  { env: 'BELLHOP_GPIO_PIN', path: ['device', 'gpio', 'pin'] },
  { env: 'BELLHOP_LOG_LEVEL', path: ['log', 'level'] },
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
    try {
      raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
    } catch (err) {
      throw new ConfigError(`config file ${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!isPlainObject(raw)) throw new ConfigError(`config file ${file}: expected a mapping of settings at the top`);
  }
  const substituted = substitute(raw, [], env);
  const merged = deepMerge(substituted, opts.overrides ?? {});
  applyEnvOverrides(merged, env);
  return parseConfig(merged);
}

/** Checks raw settings against the schema and fills in defaults. */
export function parseConfig(raw: unknown): Config {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw ?? {}));
  const first = Value.Errors(ConfigSchema, withDefaults).First();
  if (first) throw new ConfigError(describeError(first));
  const config = withDefaults as Config;
  crossCheck(config);
  return config;
}

function crossCheck(config: Config): void {
  const sources = sourcesProblem(config.sources);
  if (sources) throw new ConfigError(sources);
  if (config.slack.shareGroup && !config.mqtt.url) {
    throw new ConfigError('slack.shareGroup: shared subscriptions need an external broker (set mqtt.url); the embedded aedes has none');
  }
  if (config.device.id === 'all') throw new ConfigError('device.id: "all" is reserved for the broadcast topic');
  if (config.device.bell.pulseMs > config.device.bell.maxPulseMs) {
    throw new ConfigError(
      `device.bell.pulseMs: ${config.device.bell.pulseMs} is above device.bell.maxPulseMs (${config.device.bell.maxPulseMs})`,
    );
  }
  if (!isLoopback(config.broker.host) && config.broker.users.length === 0) {
    throw new ConfigError(`broker.users: required when broker.host (${config.broker.host}) is not a loopback address`);
  }
  const names = new Set<string>();
  config.broker.users.forEach((u, i) => {
    if (names.has(u.username)) throw new ConfigError(`broker.users.${i}.username: "${u.username}" appears twice`);
    names.add(u.username);
  });
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const SECRET_KEY = /pass(word)?|token|secret|key$/i;

function describeError(error: ValueError): string {
  const segments = error.path.split('/').filter(Boolean);
  const key = segments.join('.') || '(top level)';
  const last = segments[segments.length - 1] ?? '';
  // Unknown keys come back as an error on the parent with the offending key in the path.
  if (error.message.startsWith('Unexpected property')) return `${key}: unknown key`;
  const got = SECRET_KEY.test(last) ? 'a hidden value' : show(error.value);
  if (error.value === undefined) return `${key}: required, expected ${expected(error.schema)}`;
  return `${key}: expected ${expected(error.schema)}, got ${got}`;
}

function expected(schema: TSchema): string {
  const s = schema as Record<string, unknown> & { [Kind]?: string };
  switch (s[Kind]) {
    case 'Integer':
    case 'Number': {
      const noun = s[Kind] === 'Integer' ? 'an integer' : 'a number';
      const { minimum: min, maximum: max } = s as { minimum?: number; maximum?: number };
      if (min !== undefined && max !== undefined) return `${noun} ${min}-${max}`;
      if (min !== undefined) return `${noun} >= ${min}`;
      return noun;
    }
    case 'String': {
      const parts = ['a string'];
      if (typeof s.minLength === 'number' && s.minLength > 1) parts.push(`of at least ${s.minLength} characters`);
      if (typeof s.pattern === 'string') parts.push(`matching ${s.pattern}`);
      return parts.join(' ');
    }
    case 'Literal':
      return JSON.stringify(s.const);
    case 'Union': {
      const options = (s.anyOf as TSchema[]).map(expected);
      return `one of ${options.join(', ')}`;
    }
    case 'Boolean':
      return 'true or false';
    case 'Array':
      return 'a list';
    case 'Object':
    case 'Record':
      return 'a mapping';
    default:
      return String(s[Kind] ?? 'something else').toLowerCase();
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const REF = /\$\{(file:)?([^}]+)\}/g;

/** Replaces ${VAR} with the environment's value and ${file:/path} with a file's trimmed text. */
function substitute(value: unknown, path: string[], env: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(REF, (_m, isFile: string | undefined, name: string) => {
      const where = path.join('.') || '(top level)';
      if (isFile) {
        try {
          return readFileSync(name, 'utf8').trim();
        } catch (err) {
          throw new ConfigError(`${where}: cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
      }
      const v = env[name];
      if (v === undefined) throw new ConfigError(`${where}: environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, [...path, String(i)], env));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, [...path, k], env)]));
  }
  return value;
}

function applyEnvOverrides(target: Record<string, unknown>, env: Env): void {
  for (const { env: name, path } of ENV_OVERRIDES) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    setPath(target, path, coerce(v, schemaAt(path)));
  }
  if (env.BELLHOP_API_TOKEN) {
    const server = ensureObject(target, 'server');
    const tokens = Array.isArray(server.tokens) ? server.tokens : [];
    server.tokens = [...tokens, { name: 'env', token: env.BELLHOP_API_TOKEN }];
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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
