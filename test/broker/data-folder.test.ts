// Two bellhops on one data folder: the second must say which folder, why, and the fix.
import { describe, expect, it } from 'vitest';
import { BrokerPart } from '../../broker/broker.js';
import { Outbox } from '../../slack/outbox.js';
import { silentLogger, tempDir, testConfig } from '../helpers/world.js';

describe('a data folder another bellhop holds', () => {
  it('stops the second broker naming the folder and the fix', async () => {
    const dir = tempDir();
    const config = testConfig({ broker: { port: 0 } }, dir.path);
    const make = () => new BrokerPart({ config: config.broker, topicPrefix: config.mqtt.topicPrefix, dataDir: dir.path, logger: silentLogger() });
    const first = make();
    await first.start();
    try {
      const second = make();
      const failure = await second.start().then(() => undefined, (err: unknown) => err as Error);
      expect(failure?.message).toContain(`cannot open the broker's sessions and retained messages in ${dir.path}/broker`);
      expect(failure?.message).toMatch(/another bellhop process holds it .*BELLHOP_DATA_DIR/);
      await second.stop().catch(() => undefined);
    } finally {
      await first.stop();
      dir.remove();
    }
  });

  it('stops a second Slack sink on the same outbox the same way', async () => {
    const dir = tempDir();
    const first = new Outbox(dir.path, 10);
    await first.open();
    try {
      await expect(new Outbox(dir.path, 10).open()).rejects.toThrow(/cannot open the Slack outbox in .*: another bellhop process holds it/);
    } finally {
      await first.close();
      dir.remove();
    }
  });
});
