// `bellhop types [--json]`: the event types bellhop knows, which source produces each and
// with what severity. Read from the catalogue and from the constants the adapters map
// with, so the listing cannot drift from what the server really emits.
import type { Command } from 'commander';
import type { Config } from '../../shared/config/schema.js';
import { DEFAULT_SEVERITY } from '../../shared/client.js';
import { toEnvelope, type Severity } from '../../shared/envelope.js';
import { EVENT_TYPES, SOURCE_TYPES } from '../../shared/event-types.js';
import { BEACON_SEVERITY } from '../../server/sources/beacon.js';
import { print, setup } from '../context.js';

/** The webhook sources (named as under `sources:` in the config) and the types each maps to: the tables the adapters map with. */
export const SOURCE_EVENT_TYPES: Readonly<Record<string, Readonly<Record<string, Severity>>>> = SOURCE_TYPES;

/** POST /v1/events, which accepts every known type. */
export const API_SOURCE = 'api';

export interface TypeSource {
  source: string;
  severity: Severity;
}

export interface TypeRow {
  type: string;
  description: string;
  sources: TypeSource[];
}

// Asked from the envelope itself rather than restated: what the server fills in when a
// sender names no severity.
const SERVER_DEFAULT = toEnvelope({ type: 'bell.test' }, { source: API_SOURCE }).severity;

/** Severity of an API event that names none, as `bellhop emit` and the client library send it. */
function apiSeverity(type: string): Severity {
  return DEFAULT_SEVERITY[type] ?? SERVER_DEFAULT;
}

export function typeCatalogue(config: Pick<Config, 'server' | 'sources'>): TypeRow[] {
  const rows = new Map<string, TypeRow>();
  const row = (type: string, description: string): TypeRow => {
    let r = rows.get(type);
    if (!r) rows.set(type, (r = { type, description, sources: [] }));
    return r;
  };
  for (const [type, description] of Object.entries(EVENT_TYPES)) row(type, description);
  for (const [source, types] of Object.entries(SOURCE_EVENT_TYPES)) {
    for (const [type, severity] of Object.entries(types)) row(type, EVENT_TYPES[type] ?? '').sources.push({ source, severity });
  }
  for (const type of config.sources.beacon.types) row(type, EVENT_TYPES[type] ?? '(from sources.beacon.types)').sources.push({ source: 'beacon', severity: BEACON_SEVERITY });
  for (const r of rows.values()) if (r.type in EVENT_TYPES) r.sources.push({ source: API_SOURCE, severity: apiSeverity(r.type) });
  // Globs name no single type; what the server accepts under them still arrives over the API.
  for (const pattern of config.server.eventTypes) {
    if (!rows.has(pattern)) row(pattern, '(from server.eventTypes)').sources.push({ source: API_SOURCE, severity: apiSeverity(pattern) });
  }
  return [...rows.values()];
}

/** One line per type and source, in columns. */
export function typeTable(rows: readonly TypeRow[]): string[] {
  const lines = [['TYPE', 'SOURCE', 'SEVERITY', 'DESCRIPTION']];
  for (const r of rows) for (const s of r.sources) lines.push([r.type, s.source, s.severity, r.description]);
  const widths = [0, 1, 2].map((i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd());
}

export function registerTypes(program: Command): void {
  program
    .command('types')
    .description('list the event types bellhop knows: which source produces each, with what severity')
    .option('--json', 'print JSON: [{type, description, sources: [{source, severity}]}]')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const { config } = setup(cmd);
      const rows = typeCatalogue(config);
      // One write: with `bellhop types | head`, line-by-line writes after head quits end in EPIPE.
      print(opts.json ? JSON.stringify(rows, null, 2) : typeTable(rows).join('\n'));
    });
}
