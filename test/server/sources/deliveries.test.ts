import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryLog } from '../../../server/sources/deliveries.js';
import { tempDir } from '../../helpers/world.js';

const HOUR = 3600_000;

function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('the delivery log', () => {
  const dirs: Array<{ remove: () => void }> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
  const file = () => {
    const d = tempDir('bellhop-deliveries-');
    dirs.push(d);
    return join(d.path, 'sources', 'deliveries.jsonl');
  };

  it('publishes a delivery once and answers its redeliveries with the first ids', async () => {
    const log = new DeliveryLog({ ttlMs: 24 * HOUR, maxEntries: 100, clock: fakeClock() });
    let published = 0;
    const publish = async () => [`id-${++published}`];
    expect(await log.once('stripe:evt_1', publish)).toEqual({ duplicate: false, ids: ['id-1'] });
    expect(await log.once('stripe:evt_1', publish)).toEqual({ duplicate: true, ids: ['id-1'] });
    expect(published).toBe(1);
  });

  it('forgets a delivery after the TTL', async () => {
    const clock = fakeClock();
    const log = new DeliveryLog({ ttlMs: 24 * HOUR, maxEntries: 100, clock });
    await log.once('k', async () => ['a']);
    clock.advance(24 * HOUR - 1);
    expect((await log.once('k', async () => ['b'])).duplicate).toBe(true);
    clock.advance(2);
    expect(await log.once('k', async () => ['b'])).toEqual({ duplicate: false, ids: ['b'] });
  });

  it('does not remember a failed publish, so the provider retry goes through', async () => {
    const log = new DeliveryLog({ ttlMs: HOUR, maxEntries: 100, clock: fakeClock() });
    await expect(log.once('k', async () => Promise.reject(new Error('broker down')))).rejects.toThrow('broker down');
    expect(await log.once('k', async () => ['a'])).toEqual({ duplicate: false, ids: ['a'] });
  });

  it('lets a concurrent redelivery wait for the first attempt instead of publishing twice', async () => {
    const log = new DeliveryLog({ ttlMs: HOUR, maxEntries: 100, clock: fakeClock() });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let published = 0;
    const first = log.once('k', async () => {
      await gate;
      published++;
      return ['a'];
    });
    const second = log.once('k', async () => {
      published++;
      return ['b'];
    });
    release();
    expect(await first).toEqual({ duplicate: false, ids: ['a'] });
    expect(await second).toEqual({ duplicate: true, ids: ['a'] });
    expect(published).toBe(1);
  });

  it('is bounded: past maxEntries the oldest deliveries are forgotten', async () => {
    const log = new DeliveryLog({ ttlMs: HOUR, maxEntries: 3, clock: fakeClock() });
    for (const k of ['a', 'b', 'c', 'd']) await log.once(k, async () => [k]);
    expect(log.size).toBe(3);
    expect(log.has('a')).toBe(false);
    expect(log.has('d')).toBe(true);
  });

  it('survives a restart through its file, dropping expired entries and a torn last line', async () => {
    const path = file();
    const clock = fakeClock();
    const first = new DeliveryLog({ ttlMs: 24 * HOUR, maxEntries: 100, clock, file: path });
    await first.open();
    await first.once('old', async () => ['o']);
    clock.advance(23 * HOUR);
    await first.once('recent', async () => ['r']);
    await first.close();
    appendFileSync(path, '{"k":"torn","e":');
    clock.advance(2 * HOUR);
    const second = new DeliveryLog({ ttlMs: 24 * HOUR, maxEntries: 100, clock, file: path });
    await second.open();
    expect(second.has('old')).toBe(false);
    expect(await second.once('recent', async () => ['x'])).toEqual({ duplicate: true, ids: ['r'] });
    // Opening compacts the file to the live entries.
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('compacts its file instead of growing without end', async () => {
    const path = file();
    const log = new DeliveryLog({ ttlMs: HOUR, maxEntries: 5, clock: fakeClock(), file: path });
    await log.open();
    for (let i = 0; i < 40; i++) await log.once(`k${i}`, async () => [`${i}`]);
    await log.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(11);
  });
});
