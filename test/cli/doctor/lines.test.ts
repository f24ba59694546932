import { describe, expect, it } from 'vitest';
import { resultLine } from '../../../cli/doctor/check.js';

describe('bellhop doctor output', () => {
  it('marks a pass, a recommended-but-missing warning and a failure apart', () => {
    expect(resultLine({ ok: true, message: 'scopes granted' })).toBe('  ok   scopes granted');
    expect(resultLine({ ok: true, warning: true, message: 'recommended scope im:history is missing' })).toBe('  warn recommended scope im:history is missing');
    expect(resultLine({ ok: false, message: 'bot token refused' })).toBe('  FAIL bot token refused');
  });
});
