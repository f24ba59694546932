// Checks what the status part reads off the broker. The schemas come from the shared
// contracts, loosened only where a newer agent or Slack sink may say something this
// server does not know yet (a new suppress reason or delivery status): the trace
// should still show it rather than drop the whole report.
import { Type, type Static } from '@sinclair/typebox';
import { DeliveryReport, DeviceState, RangReport, parse } from '../../shared/messages.js';

export const SeenRang = Type.Composite([
  Type.Omit(RangReport, ['suppressed']),
  Type.Object({ suppressed: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }),
]);
export type SeenRang = Static<typeof SeenRang>;

export const SeenDelivery = Type.Composite([
  Type.Omit(DeliveryReport, ['status']),
  Type.Object({ status: Type.String({ minLength: 1, maxLength: 100 }) }),
]);
export type SeenDelivery = Static<typeof SeenDelivery>;

export const parseSeenRang = (payload: Buffer): SeenRang | undefined => parse(SeenRang, payload);
export const parseSeenDelivery = (payload: Buffer): SeenDelivery | undefined => parse(SeenDelivery, payload);
export const parseDeviceState = (payload: Buffer): DeviceState | undefined => parse(DeviceState, payload);

/** Report fields are free text from other machines; long ones are cut so memory stays bounded. */
export function clip(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
