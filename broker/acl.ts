// Who may publish and subscribe to what. Each role gets a list of topic filters;
// a subscription is allowed only when an allowed filter covers all of it.
import { filterCovered, topicMatches, type Topics, BROADCAST_DEVICE } from '../shared/topics.js';
import type { BrokerUserConfig } from '../shared/config/schema.js';

export interface Principal {
  username: string;
  role: BrokerUserConfig['role'];
  deviceId?: string | undefined;
}

export interface Grants {
  publish: string[];
  subscribe: string[];
}

export function grantsFor(principal: Principal, topics: Topics): Grants {
  const p = topics.prefix;
  switch (principal.role) {
    case 'admin':
      return { publish: ['#'], subscribe: ['#'] };
    case 'server':
      return {
        // devices/+/mute: the status page's Mute and Unmute buttons (retained, like Slack's /ding mute).
        // devices/all/rollcall: asks the bells to say themselves (shared/roll-call.ts).
        publish: [`${p}/events/#`, `${p}/devices/+/ding`, `${p}/devices/+/mute`, `${p}/devices/${BROADCAST_DEVICE}/rollcall`],
        // slack/delivered: the status page traces where each event went; slack/health: whether Slack takes the token.
        subscribe: [`${p}/devices/+/+`, `${p}/events/#`, `${p}/slack/delivered`, `${p}/slack/health`],
      };
    case 'slack':
      return {
        publish: [`${p}/devices/+/ding`, `${p}/devices/+/mute`, `${p}/devices/${BROADCAST_DEVICE}/rollcall`, `${p}/slack/#`],
        subscribe: [`${p}/events/#`, `${p}/devices/+/+`],
      };
    case 'device': {
      const id = principal.deviceId ?? principal.username;
      return {
        publish: [
          `${p}/devices/${id}/status`,
          `${p}/devices/${id}/rang`,
          `${p}/devices/${id}/state`,
          // Home Assistant discovery (device.homeAssistant), under its default prefix only.
          `homeassistant/+/bellhop_${id}/+/config`,
        ],
        subscribe: [`${p}/events/#`, `${p}/devices/${id}/+`, `${p}/devices/${BROADCAST_DEVICE}/+`],
      };
    }
  }
}

export function mayPublish(grants: Grants, topic: string): boolean {
  return grants.publish.some((g) => topicMatches(g, topic));
}

export function maySubscribe(grants: Grants, filter: string): boolean {
  return grants.subscribe.some((g) => filterCovered(g, filter));
}
