// Signing and fixtures for the Stripe source tests.
import { createHmac, randomUUID } from 'node:crypto';
import { fixture } from './world.js';

export const SECRET = 'whsec_test_5f0c2b9d7e1a4c3b8f6e2d1a0c9b8a7f';

/** Stripe-Signature as Stripe computes it: HMAC-SHA256 of "<t>.<raw body>", hex. */
export function sign(body: string, secret = SECRET, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** A fixture with a fresh event id, so each test's delivery is new to the dedup log; `edit` changes it first. */
export function event(name: string, id = `evt_${randomUUID().replaceAll('-', '')}`, edit?: (e: StripeFixture) => void): { body: string; id: string } {
  const e = JSON.parse(fixture(`stripe/${name}.json`)) as StripeFixture;
  e.id = id;
  edit?.(e);
  return { body: JSON.stringify(e), id };
}

export interface StripeFixture {
  id: string;
  type: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
}
