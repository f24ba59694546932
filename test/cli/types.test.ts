import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typeCatalogue, typeTable, type TypeRow } from '../../cli/commands/types.js';
import { parseConfig } from '../../shared/config/load.js';
import { DEFAULT_SEVERITY } from '../../shared/client.js';
import { EVENT_TYPES } from '../../shared/event-types.js';
import { ACTIVECOLLAB_EVENT_TYPES } from '../../server/sources/activecollab.js';
import { AIRBRAKE_EVENT_TYPES } from '../../server/sources/airbrake.js';
import { BEACON_SEVERITY } from '../../server/sources/beacon.js';
import { CALL_EVENT_TYPES } from '../../server/sources/calls.js';
import { CODER_EVENT_TYPES } from '../../server/sources/coder.js';
import { GITHUB_EVENT_TYPES } from '../../server/sources/github.js';
import { GITLAB_EVENT_TYPES } from '../../server/sources/gitlab.js';
import { STRIPE_EVENT_TYPES } from '../../server/sources/stripe.js';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/world.js';

// Straight from the adapters, not through cli/commands/types.ts, so a source left out there shows.
const ADAPTERS: Record<string, Record<string, string>> = {
  stripe: STRIPE_EVENT_TYPES,
  github: GITHUB_EVENT_TYPES,
  gitlab: GITLAB_EVENT_TYPES,
  coder: CODER_EVENT_TYPES,
  airbrake: AIRBRAKE_EVENT_TYPES,
  activecollab: ACTIVECOLLAB_EVENT_TYPES,
  calls: CALL_EVENT_TYPES,
};
const emitted = Object.entries(ADAPTERS).flatMap(([source, types]) => Object.entries(types).map(([type, severity]) => ({ source, type, severity })));

async function types(...args: string[]) {
  const cli = runCli(['types', ...args]);
  expect(await cli.exited, cli.stderr()).toBe(0);
  return cli.stdout();
}

/** The table's lines as [type, source, severity, description]. */
function cells(out: string): string[][] {
  return out.trimEnd().split('\n').map((l) => l.split(/ {2,}/));
}

describe('the adapters\' type tables', () => {
  it('name only catalogued types, so the API accepts what a source sends', () => {
    expect(emitted.length).toBeGreaterThan(10);
    for (const { type } of emitted) expect(EVENT_TYPES, type).toHaveProperty([type]);
  });
});

describe('bellhop types', () => {
  beforeAll(() => assertBuilt());
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('prints one aligned line per type and source, with every type an adapter emits', async () => {
    const out = await types();
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TYPE +SOURCE +SEVERITY +DESCRIPTION$/);
    // Aligned: every column starts where its header does.
    for (const header of ['SOURCE', 'SEVERITY', 'DESCRIPTION']) {
      const at = lines[0]!.indexOf(header);
      for (const line of lines.slice(1)) expect(line[at - 1], line).toBe(' ');
    }
    const rows = cells(out).slice(1);
    for (const { source, type, severity } of emitted) {
      expect(rows, `${type} from ${source}`).toContainEqual([type, source, severity, EVENT_TYPES[type]]);
    }
    expect(rows).toContainEqual(['beacon.received', 'beacon', BEACON_SEVERITY, EVENT_TYPES['beacon.received']]);
    // Every catalogued type can also be sent to POST /v1/events.
    for (const type of Object.keys(EVENT_TYPES)) expect(rows.some(([t, s]) => t === type && s === 'api'), type).toBe(true);
    expect(rows).toContainEqual(['task.failed', 'api', DEFAULT_SEVERITY['task.failed'], EVENT_TYPES['task.failed']]);
  });

  it('prints the same as JSON with --json', async () => {
    const rows = JSON.parse(await types('--json')) as TypeRow[];
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(Object.keys(EVENT_TYPES)));
    for (const { source, type, severity } of emitted) {
      expect(rows.find((r) => r.type === type)?.sources, type).toContainEqual({ source, severity });
    }
  });

  it('adds the types the config accepts or lets beacons carry', async () => {
    const file = join(dir.path, 'bellhop.yaml');
    writeFileSync(file, 'server:\n  eventTypes: ["invoice.*"]\nsources:\n  beacon:\n    types: [beacon.received, page.viewed]\n');
    const rows = cells(await types('--config', file)).slice(1);
    expect(rows).toContainEqual(['invoice.*', 'api', 'info', '(from server.eventTypes)']);
    expect(rows).toContainEqual(['page.viewed', 'beacon', BEACON_SEVERITY, '(from sources.beacon.types)']);
  });
});

describe('the type catalogue', () => {
  it('lists each catalogued type once, its sources in adapter order and the API last', () => {
    const rows = typeCatalogue(parseConfig({}));
    expect(new Set(rows.map((r) => r.type)).size).toBe(rows.length);
    expect(rows.find((r) => r.type === 'ci.failed')?.sources.map((s) => s.source)).toEqual(['github', 'gitlab', 'api']);
  });

  it('pads every column but the last', () => {
    const lines = typeTable([{ type: 'a.b', description: 'x', sources: [{ source: 'api', severity: 'info' }] }]);
    expect(lines).toEqual(['TYPE  SOURCE  SEVERITY  DESCRIPTION', 'a.b   api     info      x']);
  });
});
