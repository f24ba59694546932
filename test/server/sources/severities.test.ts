// Severities: the adapters' tables are the ones docs/sources.md lists, and a team can
// override them per source in the config, checked against what the source emits.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../shared/config/load.js';
import { SOURCE_TYPES } from '../../../shared/event-types.js';
import { CODER_NOTIFICATION_SEVERITIES } from '../../../server/sources/coder.js';
import { event, SECRET, sign } from './stripe-helpers.js';
import { fixture, sourceWorld, type SourceWorld } from './world.js';

const doc = readFileSync(new URL('../../../docs/sources.md', import.meta.url), 'utf8');

describe('the severity tables in docs/sources.md', () => {
  it('list every type of every source with the severity its adapter gives it, and nothing else', () => {
    const documented: Record<string, Record<string, string>> = {};
    for (const m of doc.matchAll(/^\| ([a-z]+) \| `([a-z0-9_.-]+)` \| (critical|error|warning|info) \|/gm)) {
      (documented[m[1]!] ??= {})[m[2]!] = m[3]!;
    }
    expect(documented).toEqual(SOURCE_TYPES);
  });

  it("list Coder's severities by notification name", () => {
    const documented = Object.fromEntries([...doc.matchAll(/^\| Coder "([^"]+)" \| (critical|error|warning|info) \|/gm)].map((m) => [m[1]!, m[2]!]));
    expect(documented).toEqual(CODER_NOTIFICATION_SEVERITIES);
  });
});

describe('sources.<name>.severities', () => {
  it('refuses a type the source does not emit, naming the key and the nearest type', () => {
    const parse = () => parseConfig({ sources: { stripe: { severities: { 'payment.faild': 'critical' } } } });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/^sources\.stripe\.severities\.payment\.faild: not a type the stripe source emits \(did you mean payment\.failed\? it emits payment\.succeeded, /);
    // A type of another source is no typo to guess at, but still not this source's.
    expect(() => parseConfig({ sources: { github: { severities: { 'payment.failed': 'info' } } } })).toThrow(/^sources\.github\.severities\.payment\.failed: not a type the github source emits \(it emits pr\.opened/);
  });

  it('refuses a severity that does not exist, listing the ones that do', () => {
    expect(() => parseConfig({ sources: { gitlab: { severities: { 'ci.failed': 'fatal' } } } })).toThrow(
      /sources\.gitlab\.severities\.ci\.failed: expected one of "critical", "error", "warning", "info", got "fatal"/,
    );
  });

  it('takes the severities a source emits', () => {
    expect(parseConfig({ sources: { coder: { severities: { 'notification.sent': 'warning' } } } }).sources.coder.severities).toEqual({ 'notification.sent': 'warning' });
  });
});

describe('a severity override', () => {
  let world: SourceWorld;

  beforeAll(async () => {
    world = await sourceWorld({
      stripe: { enabled: true, secrets: [SECRET], severities: { 'payment.failed': 'critical' } },
      coder: { enabled: true, tokens: ['coder-token-for-overrides'], severities: { 'notification.sent': 'warning' } },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("replaces the adapter's severity for that type only, whatever the mapping would choose", async () => {
    const failed = event('invoice.payment_failed');
    expect((await world.post('/v1/sources/stripe', failed.body, { 'stripe-signature': sign(failed.body) })).status).toBe(202);
    const paid = event('invoice.paid');
    expect((await world.post('/v1/sources/stripe', paid.body, { 'stripe-signature': sign(paid.body) })).status).toBe(202);
    // Coder's own rule makes a failed build an error; the team's override wins.
    expect((await world.post('/v1/sources/coder?token=coder-token-for-overrides', fixture('coder/workspace-build-failed.json'))).status).toBe(202);
    const got = await world.drain();
    expect(got.map((e) => [e.type, e.severity])).toEqual([
      ['payment.failed', 'critical'],
      ['payment.succeeded', 'info'],
      ['notification.sent', 'warning'],
    ]);
  });
});
