import { describe, expect, it } from 'vitest';
import { parseCommand, parseDuration, ringAnswer } from '../../slack/socket/ding.js';

describe('the /ding words', () => {
  it('reads ringing, status, mute and unmute', () => {
    expect(parseCommand('')).toEqual({ kind: 'ring' });
    expect(parseCommand('  all ')).toEqual({ kind: 'ring' });
    expect(parseCommand('Office-Bell')).toEqual({ kind: 'ring', device: 'office-bell' });
    expect(parseCommand('status')).toEqual({ kind: 'status' });
    expect(parseCommand('mute 30m')).toEqual({ kind: 'mute', durationMs: 30 * 60_000 });
    expect(parseCommand('mute garage-bell 2h')).toEqual({ kind: 'mute', device: 'garage-bell', durationMs: 2 * 3600_000 });
    expect(parseCommand('mute')).toEqual({ kind: 'mute', durationMs: 3600_000 });
    expect(parseCommand('unmute')).toEqual({ kind: 'unmute' });
    expect(parseCommand('unmute garage-bell')).toEqual({ kind: 'unmute', device: 'garage-bell' });
    expect(parseCommand('help')).toEqual({ kind: 'help' });
  });

  it('refuses what it does not understand, and mutes longer than a week', () => {
    expect(parseCommand('ring the bell')).toMatchObject({ kind: 'invalid' });
    expect(parseCommand('mute 30m 2h x y')).toMatchObject({ kind: 'invalid' });
    expect(parseCommand('mute 8d')).toEqual({ kind: 'invalid', message: 'Bells can be muted for at most 7 days.' });
    expect(parseCommand('<!channel>')).toEqual({ kind: 'invalid', message: 'I did not understand "&lt;!channel&gt;".' });
  });

  it('reads durations in seconds, minutes, hours and days, minutes by default', () => {
    expect(parseDuration('45s')).toBe(45_000);
    expect(parseDuration('90')).toBe(90 * 60_000);
    expect(parseDuration('1.5h')).toBe(5400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('0m')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('escapes bell names in answers', () => {
    const answer = ringAnswer({ asked: [{ id: 'a<b' }], offline: [], waitedMs: 5000, now: 0 });
    expect(answer).toBe(':grey_question: *a&lt;b* did not answer within 5.0 s');
  });
});
