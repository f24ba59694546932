import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { referenceRows, withReference } from '../../shared/config/reference.js';

describe('the configuration reference', () => {
  it('in docs/configuration.md is exactly what the schema says (run `npm run docs` after changing the schema)', () => {
    const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(withReference(page)).toBe(page);
  });

  it('describes every key', () => {
    const rows = referenceRows();
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.filter((r) => r.description.trim() === '').map((r) => r.key)).toEqual([]);
    expect(rows.map((r) => r.key)).toContain('device.gpio.pin');
  });
});
