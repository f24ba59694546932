// The mute command, built in one place for everyone who mutes bells: Slack's /ding mute
// and the status page's Mute buttons. The agents read it (parseMute), so both must write
// exactly this: {until, by} retained on devices/<id>/mute (id "all" for every bell).
import type { MuteState } from './messages.js';
import { BROADCAST_DEVICE, type Topics } from './topics.js';

export interface MuteCommand {
  topic: string;
  /** A MuteState as JSON. */
  payload: string;
  /** Always: a bell that comes back online must find the mute waiting for it. */
  retain: true;
}

/** `until` null unmutes; `by` is who asked, shown by /ding status and the status page. */
export function muteCommand(topics: Topics, deviceId: string, until: Date | null, by: string): MuteCommand {
  const state: MuteState = { until: until === null ? null : until.toISOString(), by };
  return { topic: topics.device(deviceId, 'mute'), payload: JSON.stringify(state), retain: true };
}

/**
 * The mutes to clear for an unmute of one bell, or of every bell (no id). The latter also
 * clears each bell muted on its own: whoever asks means "let every bell ring again", not
 * "clear the one topic devices/all/mute".
 */
export function unmuteTargets(deviceId: string | undefined, mutedBells: readonly string[]): string[] {
  if (deviceId !== undefined) return [deviceId];
  return [BROADCAST_DEVICE, ...mutedBells.filter((id) => id !== BROADCAST_DEVICE)];
}
