import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/load.js';
import { openSources } from '../../../server/sources/index.js';
import type { EventPublisher } from '../../../server/publisher.js';
import { silentLogger, tempDir, testConfig } from '../../helpers/world.js';

describe('opening the sources', () => {
  const publisher = {} as EventPublisher;


  it('refuses an enabled source without its secret when the config loads, naming the key', () => {
    expect(() => testConfig({ sources: { stripe: { enabled: true } } })).toThrow(ConfigError);
    expect(() => testConfig({ sources: { stripe: { enabled: true } } })).toThrow('sources.stripe.secrets: required when the source is enabled');
    expect(() => testConfig({ sources: { beacon: { enabled: true } } })).toThrow(/sources.beacon.origins/);
  });

  it('turns nothing on by default, and then writes nothing to the data folder', async () => {
    const dir = tempDir();
    const config = testConfig({}, dir.path);
    const sources = await openSources({ config: config.sources, dataDir: dir.path, publisher, logger: silentLogger() });
    expect(sources.enabled).toEqual([]);
    expect(sources.signedEvents).toBeUndefined();
    await sources.close();
    expect(existsSync(join(dir.path, 'sources'))).toBe(false);
    dir.remove();
  });
});
