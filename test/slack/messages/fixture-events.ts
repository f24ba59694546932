// Every provider payload in test/fixtures/sources, mapped by the real source adapters
// into the envelope the Slack sink receives, so message tests see what production sees.
// Ignored payloads (a GitHub ping, a running pipeline) come back without an event.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toEnvelope, type Envelope } from '../../../shared/envelope.js';
import { parseConfig } from '../../../shared/config/load.js';
import { mapStripeEvent } from '../../../server/sources/stripe.js';
import { mapGithubEvent } from '../../../server/sources/github.js';
import { mapGitlabEvent } from '../../../server/sources/gitlab.js';
import { mapCoderMessage } from '../../../server/sources/coder.js';
import { mapAirbrakeNotice } from '../../../server/sources/airbrake.js';
import { mapActiveCollabEvent } from '../../../server/sources/activecollab.js';
import { mapCall } from '../../../server/sources/calls.js';
import type { Mapped } from '../../../server/sources/context.js';

export const FIXTURES = join(import.meta.dirname, '../../fixtures/sources');
const NOW = new Date('2026-05-27T09:15:00Z');

export interface FixtureEvent {
  /** e.g. "stripe/invoice.finalized.json" */
  name: string;
  event?: Envelope;
  ignored?: string;
}

// A config as a team would write it: Active Collab with its address and a project name.
const sources = parseConfig({
  sources: {
    activecollab: { baseUrl: 'https://app.activecollab.com/123456', projects: { '2': 'Website' } },
    airbrake: { projects: [{ id: '251003', key: 'airbrake-project-key', name: 'shop' }] },
  },
}).sources;

// Any type: the adapters' own route schemas check the payloads; here they are trusted fixtures.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function mapOne(provider: string, file: string, raw: string): Mapped {
  const json = (): Any => JSON.parse(raw);
  switch (provider) {
    case 'stripe':
      return mapStripeEvent(json(), 'billing');
    case 'github':
      return mapGithubEvent(file.split('.')[0]!, json(), `delivery-${file}`);
    case 'gitlab':
      return mapGitlabEvent(json(), `delivery-${file}`);
    case 'coder':
      return mapCoderMessage(json());
    case 'airbrake':
      return mapAirbrakeNotice(json(), sources.airbrake.projects[0]!, file.includes('development') ? sources.airbrake.ignoreEnvironments : []);
    case 'activecollab':
      return mapActiveCollabEvent(json(), sources.activecollab);
    case 'calls':
      return mapCall(file.endsWith('.json') ? json() : Object.fromEntries(new URLSearchParams(raw.trim())), sources.calls);
    default:
      throw new Error(`no adapter for fixtures in ${provider}/`);
  }
}

const SOURCE: Record<string, string> = { airbrake: 'airbrake/251003' };

export function fixtureEvents(): FixtureEvent[] {
  const out: FixtureEvent[] = [];
  for (const provider of readdirSync(FIXTURES).sort()) {
    for (const file of readdirSync(join(FIXTURES, provider)).sort()) {
      const name = `${provider}/${file}`;
      const mapped = mapOne(provider, file, readFileSync(join(FIXTURES, provider, file), 'utf8'));
      if ('ignored' in mapped) {
        out.push({ name, ignored: mapped.ignored });
        continue;
      }
      const input = { id: `evt-${name}`, ...mapped.event };
      out.push({ name, event: toEnvelope(input, { source: SOURCE[provider] ?? provider, now: () => NOW }) });
    }
  }
  return out;
}
