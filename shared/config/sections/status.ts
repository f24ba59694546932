// status: the status page served by the server part (bells, recent events, traces).
import { Type, type Static } from '@sinclair/typebox';

export const StatusSection = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Serve the status page at /status/ and its JSON endpoints (/v1/devices, /v1/events/recent, /v1/events/:id/trace), all behind the API token.',
    }),
    recentEvents: Type.Integer({
      minimum: 10,
      maximum: 10_000,
      default: 200,
      description: 'How many recent events, with their traces, the server keeps in memory for the page (oldest are forgotten first).',
    }),
    staleAfterSeconds: Type.Integer({
      minimum: 10,
      maximum: 24 * 3600,
      default: 180,
      description: 'A bell that says online but has sent no heartbeat for this long is shown as stale.',
    }),
  },
  { additionalProperties: false, default: {} },
);
export type StatusConfig = Static<typeof StatusSection>;
