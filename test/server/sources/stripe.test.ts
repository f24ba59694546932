import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, SECRET, sign } from './stripe-helpers.js';
import { fixture, sourceWorld, type SourceWorld } from './world.js';

const OLD_SECRET = 'whsec_test_old_0011223344556677889900aa';

describe('Stripe source', () => {
  let world: SourceWorld;
  const post = (body: string, signature?: string) =>
    world.post('/v1/sources/stripe', body, signature === undefined ? {} : { 'stripe-signature': signature });

  beforeAll(async () => {
    world = await sourceWorld({ stripe: { enabled: true, secrets: [SECRET], project: 'billing' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('publishes a signed one-off payment_intent.succeeded as payment.succeeded, with the Stripe event id as its id', async () => {
    const body = fixture('stripe/payment_intent.succeeded.one-off.json');
    const res = await post(body, sign(body));
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ status: 'accepted', id: 'evt_3PtUc72eZvKYlo2C0mN3o4p5' });
    const [e, ...rest] = await world.drain();
    expect(rest).toEqual([]);
    expect(e).toMatchObject({
      specversion: '1.0',
      id: 'evt_3PtUc72eZvKYlo2C0mN3o4p5',
      type: 'payment.succeeded',
      source: 'stripe',
      severity: 'info',
      subject: 'cus_QnOmarFaruq1102',
      project: 'billing',
      time: new Date(1731000000 * 1000).toISOString(),
      data: {
        amount: 12900,
        currency: 'eur',
        customer: 'cus_QnOmarFaruq1102',
        customerEmail: 'omar@example.com',
        receiptEmail: 'omar@example.com',
        description: 'Order #1102',
        paymentIntent: 'pi_3PtUc72eZvKYlo2C0qR6s7t8',
        links: [{ label: 'View payment', url: 'https://dashboard.stripe.com/test/payments/pi_3PtUc72eZvKYlo2C0qR6s7t8' }],
      },
    });
  });

  it('maps the events a SaaS team cares about to bellhop types', async () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['payment_intent.payment_failed.one-off', 'payment.failed', { failure: 'Your card has insufficient funds.', failureCode: 'insufficient_funds' }],
      ['customer.created', 'customer.created', { email: 'ada@example.com', name: 'Ada Lovelace' }],
      ['customer.subscription.created', 'subscription.created', { plan: 'Starter', amount: 4900, interval: 'month' }],
      [
        'customer.subscription.updated.upgrade',
        'subscription.upgraded',
        { plan: 'Pro', amount: 19900, interval: 'month', previousPlan: 'Starter', previousAmount: 4900, previousInterval: 'month', yearlyAmount: 19900 * 12, previousYearlyAmount: 4900 * 12 },
      ],
      // Each side in its own interval: a monthly plan next to a yearly one, and the yearly figures to compare them.
      [
        'customer.subscription.updated.downgrade',
        'subscription.downgraded',
        { plan: 'Starter (yearly)', amount: 49000, interval: 'year', previousPlan: 'Pro', previousAmount: 19900, previousInterval: 'month', yearlyAmount: 49000, previousYearlyAmount: 19900 * 12 },
      ],
      ['customer.subscription.updated.cancel_at_period_end', 'subscription.canceled', { atPeriodEnd: true, reason: 'cancellation_requested' }],
      ['customer.subscription.deleted', 'subscription.canceled', { status: 'canceled' }],
      ['customer.subscription.trial_will_end', 'trial.ending', { trialEnd: new Date(1725104409 * 1000).toISOString() }],
    ];
    for (const [name, type, data] of cases) {
      const { body, id } = event(name);
      const res = await post(body, sign(body));
      expect(res.status, name).toBe(202);
      const got = await world.drain();
      expect(got, name).toHaveLength(1);
      expect(got[0], name).toMatchObject({ id, type, source: 'stripe', data });
    }
  });

  it('refuses a wrong signature with 401 and a reason, and publishes nothing', async () => {
    const { body } = event('payment_intent.succeeded.one-off');
    const res = await post(body, sign(body, 'whsec_someone_else_entirely'));
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'unauthorized', message: expect.stringContaining('does not match') });
    expect(await world.drain()).toEqual([]);
  });

  it('refuses a body changed after signing', async () => {
    const { body } = event('payment_intent.succeeded.one-off');
    const res = await post(body.replace('12900', '1'), sign(body));
    expect(res.status).toBe(401);
    expect(await world.drain()).toEqual([]);
  });

  it('refuses a missing Stripe-Signature header with 401', async () => {
    const { body } = event('payment_intent.succeeded.one-off');
    const res = await post(body);
    expect(res.status).toBe(401);
    expect(res.json.message).toMatch(/missing Stripe-Signature/);
    expect(await world.drain()).toEqual([]);
  });

  it('refuses a correctly signed delivery whose timestamp is outside the 5 minute tolerance', async () => {
    const { body } = event('payment_intent.succeeded.one-off');
    const now = Math.floor(Date.now() / 1000);
    const old = await post(body, sign(body, SECRET, now - 301));
    expect(old.status).toBe(401);
    expect(old.json.message).toMatch(/300 s/);
    // 302: the server reads its clock a moment later, maybe in the next second.
    const future = await post(body, sign(body, SECRET, now + 302));
    expect(future.status).toBe(401);
    expect(await world.drain()).toEqual([]);
    const recent = await post(body, sign(body, SECRET, now - 240));
    expect(recent.status).toBe(202);
    expect(await world.drain()).toHaveLength(1);
  });

  it('accepts a header with several v1 signatures when one of them matches (secret rotation)', async () => {
    const { body, id } = event('customer.created');
    const t = Math.floor(Date.now() / 1000);
    const stale = createHmac('sha256', OLD_SECRET).update(`${t}.${body}`).digest('hex');
    const current = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
    const res = await post(body, `t=${t},v1=${stale},v1=${current},v0=deadbeef`);
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([{ id, type: 'customer.created' }]);
  });

  it('answers a malformed body with 400, even when it is signed', async () => {
    const notJson = 'this is not json';
    const a = await post(notJson, sign(notJson));
    expect(a.status).toBe(400);
    expect(a.json.error).toBe('bad_json');
    const notAnEvent = JSON.stringify({ id: 'evt_1', object: 'charge' });
    const b = await post(notAnEvent, sign(notAnEvent));
    expect(b.status).toBe(400);
    expect(b.json.error).toBe('invalid_payload');
    expect(await world.drain()).toEqual([]);
  });

  it('answers an event kind bellhop does not map with 200 "ignored", publishing nothing', async () => {
    for (const name of ['invoice.finalized', 'customer.subscription.updated.status']) {
      const { body } = event(name);
      const res = await post(body, sign(body));
      expect(res.status, name).toBe(200);
      expect(res.json, name).toMatchObject({ status: 'ignored', reason: expect.any(String) });
    }
    expect(await world.drain()).toEqual([]);
  });

  it('answers a redelivery of the same event id with 2xx and publishes it once', async () => {
    const { body, id } = event('payment_intent.succeeded.one-off');
    const first = await post(body, sign(body));
    expect(first.status).toBe(202);
    const again = await post(body, sign(body));
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ status: 'duplicate', id });
    expect(await world.drain()).toMatchObject([{ id }]);
  });

  it('still knows a delivery after the server restarts (the delivery log is on disk)', async () => {
    const { body, id } = event('customer.subscription.created');
    expect((await post(body, sign(body))).status).toBe(202);
    expect(await world.drain()).toHaveLength(1);
    await world.restartServer();
    const again = await post(body, sign(body));
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ status: 'duplicate', id });
    expect(await world.drain()).toEqual([]);
  });
});
