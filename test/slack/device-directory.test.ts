import { describe, expect, it } from 'vitest';
import { DeviceDirectory } from '../../slack/socket/devices.js';
import { Topics } from '../../shared/topics.js';

describe("what /ding knows about the bells", () => {
  it('keeps at most 500 bells, however many device topics a client sprays', () => {
    const topics = new Topics('bellhop');
    const directory = new DeviceDirectory(topics);
    for (let i = 0; i < 600; i++) directory.onMessage(topics.device(`bell-${i}`, 'status'), Buffer.from('online'), true, 0);
    expect(directory.list()).toHaveLength(500);
    expect(directory.get('bell-0')?.status).toBe('online');
    expect(directory.get('bell-599')).toBeUndefined();
  });
});
