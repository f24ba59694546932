// The routing table: rules tried in order, each matching on type, severity, source,
// project and data fields, and sending to a channel (templated), a person by DM,
// or nowhere. `continue` fans out; events no rule takes go to the default channel.
import type { Envelope } from '../shared/envelope.js';
import { ConfigError } from '../shared/config/load.js';
import type { RouteConfig, SlackConfig } from '../shared/config/schema.js';
import { globToRegExp } from '../shared/event-types.js';
import { display } from './escape.js';
import { USER_ID } from './ids.js';
import { dataPath, fill, isKnownPath, placeholders, slug } from './template.js';

export type Target = { kind: 'channel'; channel: string } | { kind: 'dm'; user: string };

export interface RoutedTarget {
  /** One lane per key: the per-channel limiter and the FIFO order live there. */
  key: string;
  target: Target;
  /** Index of the rule, or -1 for the default route. */
  rule: number;
  digest: boolean;
}

export interface RouteDecision {
  targets: RoutedTarget[];
  /** Why nothing (more) was posted: a drop rule, or no route at all. */
  dropped?: string;
}

interface CompiledRule {
  index: number;
  matches: (event: Envelope) => boolean;
  action: { kind: 'channel' | 'dm'; template: string } | { kind: 'drop' };
  continue: boolean;
  digest: boolean;
}

const MAX_CHANNEL = 80;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

export class Router {
  #rules: CompiledRule[];
  #defaultChannel: string | undefined;

  constructor(config: Pick<SlackConfig, 'routes' | 'defaultChannel'>) {
    this.#rules = config.routes.map((rule, i) => compileRule(rule, i));
    this.#defaultChannel = config.defaultChannel;
  }

  route(event: Envelope): RouteDecision {
    const targets = new Map<string, RoutedTarget>();
    for (const rule of this.#rules) {
      if (!rule.matches(event)) continue;
      if (rule.action.kind === 'drop') {
        return { targets: [...targets.values()], dropped: `dropped by slack.routes.${rule.index}` };
      }
      const target = resolveTarget(rule.action.kind, rule.action.template, event);
      // A template that cannot be filled (no project, no email) means this rule does not apply.
      if (!target) continue;
      if (!targets.has(target.key)) targets.set(target.key, { ...target, rule: rule.index, digest: rule.digest });
      if (!rule.continue) return { targets: [...targets.values()] };
    }
    if (targets.size > 0) return { targets: [...targets.values()] };
    if (this.#defaultChannel) {
      const target = resolveTarget('channel', this.#defaultChannel, event);
      if (target) return { targets: [{ ...target, rule: -1, digest: true }] };
    }
    return { targets: [], dropped: 'no route matched and slack.defaultChannel is not set' };
  }
}

function resolveTarget(kind: 'channel' | 'dm', template: string, event: Envelope): { key: string; target: Target } | undefined {
  if (kind === 'channel') {
    const channel = fill(template, event, { transform: slug, strict: true });
    if (!channel || channel === '#') return undefined;
    const name = channel.slice(0, channel.startsWith('#') ? MAX_CHANNEL + 1 : MAX_CHANNEL);
    return { key: `channel:${name}`, target: { kind: 'channel', channel: name } };
  }
  const user = fill(template, event, { strict: true })?.trim();
  if (!user || !(EMAIL.test(user) || USER_ID.test(user))) return undefined;
  const normalized = EMAIL.test(user) ? user.toLowerCase() : user;
  return { key: `dm:${normalized}`, target: { kind: 'dm', user: normalized } };
}

function compileRule(rule: RouteConfig, index: number): CompiledRule {
  const where = `slack.routes.${index}`;
  const actions = [rule.channel !== undefined, rule.dm !== undefined, rule.drop === true].filter(Boolean).length;
  if (actions !== 1) throw new ConfigError(`${where}: give exactly one of channel, dm or drop: true`);
  const template = rule.channel ?? rule.dm;
  for (const path of template ? placeholders(template) : []) {
    if (!isKnownPath(path)) {
      throw new ConfigError(`${where}: unknown placeholder {${path}}; use id, type, source, severity, project, subject, time or data.<field>`);
    }
  }
  return {
    index,
    matches: compileMatch(rule.match),
    action: rule.drop === true ? { kind: 'drop' } : { kind: rule.channel !== undefined ? 'channel' : 'dm', template: template! },
    continue: rule.continue,
    digest: rule.digest,
  };
}

function compileMatch(match: RouteConfig['match']): (event: Envelope) => boolean {
  const tests: Array<(event: Envelope) => boolean> = [];
  if (match.type !== undefined) {
    const types = list(match.type).map(globToRegExp);
    tests.push((e) => types.some((re) => re.test(e.type)));
  }
  if (match.severity !== undefined) {
    const severities = list(match.severity);
    tests.push((e) => severities.includes(e.severity));
  }
  if (match.source !== undefined) {
    const sources = list(match.source).map(looseGlob);
    tests.push((e) => sources.some((re) => re.test(e.source)));
  }
  if (match.project !== undefined) {
    const projects = list(match.project).map(looseGlob);
    tests.push((e) => e.project !== undefined && projects.some((re) => re.test(e.project!)));
  }
  for (const [path, expected] of Object.entries(match.data ?? {})) {
    const options = list(expected).map((v) => (typeof v === 'string' ? looseGlob(v) : v));
    tests.push((e) => {
      const actual = dataPath(e.data, path);
      return options.some((want) => {
        if (want instanceof RegExp) return (typeof actual === 'string' || typeof actual === 'number' || typeof actual === 'boolean') && want.test(display(actual));
        return actual === want;
      });
    });
  }
  return (event) => tests.every((t) => t(event));
}

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** `*` matches any run of characters (sources and projects have no dotted segments). */
export function looseGlob(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}
