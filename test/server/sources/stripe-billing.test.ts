// What a subscription business receives from Stripe (api_version 2024-06-20) and what bellhop
// makes of it: invoices paid and failed, refunds, disputes, Checkout, pauses, with amounts in
// minor units, the currency, the interval and the customer by name and e-mail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, sign } from './stripe-helpers.js';
import { sourceWorld, type SourceWorld } from './world.js';

describe('Stripe billing events', () => {
  let world: SourceWorld;
  const post = (body: string) => world.post('/v1/sources/stripe', body, { 'stripe-signature': sign(body) });
  const one = async (name: string, edit?: Parameters<typeof event>[2]) => {
    const { body, id } = event(name, undefined, edit);
    const res = await post(body);
    expect(res.status, `${name}: ${JSON.stringify(res.json)}`).toBe(202);
    const got = await world.drain();
    expect(got, name).toHaveLength(1);
    expect(got[0]!.id).toBe(id);
    return got[0]!;
  };

  beforeAll(async () => {
    world = await sourceWorld({ stripe: { enabled: true, secrets: ['whsec_test_5f0c2b9d7e1a4c3b8f6e2d1a0c9b8a7f'], project: 'billing' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('maps a failed renewal (invoice.payment_failed) to payment.failed, an error, with the attempt and the next retry', async () => {
    const e = await one('invoice.payment_failed');
    expect(e).toMatchObject({ type: 'payment.failed', severity: 'error', subject: 'cus_QkAnaLi0042xy', project: 'billing' });
    expect(e.data).toEqual({
      invoice: 'in_1PsZc42eZvKYlo2C3n0pQ1rS',
      invoiceNumber: 'INV-0042',
      amount: 2900,
      currency: 'usd',
      customer: 'cus_QkAnaLi0042xy',
      customerName: 'Ana Li',
      customerEmail: 'ana.li@example.com',
      subscription: 'sub_1PmAnaLi2eZvKYlo2Cq4r5s6t',
      billingReason: 'subscription_cycle',
      plan: 'Pro',
      interval: 'month',
      hostedInvoiceUrl: expect.stringMatching(/^https:\/\/invoice\.stripe\.com\//),
      attempt: 1,
      nextRetryAt: new Date(1730637612 * 1000).toISOString(),
      stripeEvent: 'invoice.payment_failed',
      livemode: false,
      links: [
        { label: 'View invoice', url: 'https://dashboard.stripe.com/test/invoices/in_1PsZc42eZvKYlo2C3n0pQ1rS' },
        { label: 'Invoice page', url: expect.stringMatching(/^https:\/\/invoice\.stripe\.com\//) },
      ],
    });
  });

  it('leaves nextRetryAt out once Stripe stops retrying', async () => {
    const e = await one('invoice.payment_failed', (f) => Object.assign(f.data.object, { attempt_count: 4, next_payment_attempt: null }));
    expect(e.data).toMatchObject({ attempt: 4 });
    expect(e.data).not.toHaveProperty('nextRetryAt');
  });

  it('maps invoice.paid to payment.succeeded with the amount paid and who paid it', async () => {
    const e = await one('invoice.paid');
    expect(e).toMatchObject({
      type: 'payment.succeeded',
      severity: 'info',
      data: { amount: 2900, currency: 'usd', customerName: 'Ana Li', customerEmail: 'ana.li@example.com', invoiceNumber: 'INV-0042', interval: 'month', plan: 'Pro' },
    });
  });

  it('maps refunds, disputes and completed checkouts', async () => {
    const refund = await one('charge.refunded');
    expect(refund).toMatchObject({
      type: 'payment.refunded',
      severity: 'info',
      subject: 'cus_QlSamOrtiz0087',
      data: { amount: 1500, amountRefunded: 1500, chargeAmount: 4900, fullyRefunded: false, currency: 'usd', customerName: 'Sam Ortiz', customerEmail: 'sam.ortiz@example.com', charge: 'ch_3PtQw12eZvKYlo2C1bC2dE3f' },
    });
    const dispute = await one('charge.dispute.created');
    expect(dispute).toMatchObject({
      type: 'payment.disputed',
      severity: 'error',
      data: { amount: 4900, currency: 'usd', reason: 'fraudulent', status: 'needs_response', evidenceDueBy: new Date(1731628799 * 1000).toISOString(), dispute: 'dp_1PtRa32eZvKYlo2C0zA1bC2d' },
    });
    expect(dispute.data!.links).toEqual([{ label: 'View dispute', url: 'https://dashboard.stripe.com/test/disputes/dp_1PtRa32eZvKYlo2C0zA1bC2d' }]);
    const checkout = await one('checkout.session.completed');
    expect(checkout).toMatchObject({
      type: 'checkout.completed',
      severity: 'info',
      subject: 'cus_QmLeaNguyen01',
      data: { mode: 'subscription', amount: 2900, currency: 'usd', customerName: 'Lea Nguyen', customerEmail: 'lea.nguyen@example.com', paymentStatus: 'paid', subscription: 'sub_1PtTb52eZvKYlo2CcD9e0f1g' },
    });
  });

  it('maps pauses and resumptions, of the subscription and of its payment collection', async () => {
    expect(await one('customer.subscription.paused')).toMatchObject({ type: 'subscription.paused', severity: 'warning', data: { status: 'paused', interval: 'month', currency: 'eur' } });
    expect(await one('customer.subscription.resumed')).toMatchObject({ type: 'subscription.resumed', severity: 'info', data: { status: 'active' } });
    expect(await one('customer.subscription.updated.pause_collection')).toMatchObject({
      type: 'subscription.paused',
      data: { pauseBehavior: 'void', resumesAt: new Date(1733011200 * 1000).toISOString() },
    });
    const resumed = await one('customer.subscription.updated.pause_collection', (f) => {
      f.data.previous_attributes = { pause_collection: f.data.object.pause_collection };
      f.data.object.pause_collection = null;
    });
    expect(resumed.type).toBe('subscription.resumed');
  });

  it('gives churn and a trial about to end the warning severity', async () => {
    expect(await one('customer.subscription.deleted')).toMatchObject({ type: 'subscription.canceled', severity: 'warning' });
    expect(await one('customer.subscription.trial_will_end')).toMatchObject({ type: 'trial.ending', severity: 'warning' });
  });

  it("answers the PaymentIntent of an invoice 'ignored', naming the invoice event that reports it", async () => {
    for (const [name, instead] of [
      ['payment_intent.succeeded', 'invoice.paid'],
      ['payment_intent.payment_failed', 'invoice.payment_failed'],
    ] as const) {
      const { body } = event(name);
      const res = await post(body);
      expect(res.status, name).toBe(200);
      expect(res.json, name).toMatchObject({ status: 'ignored', reason: expect.stringContaining(instead) });
    }
    // Nothing charged (a trial's first invoice) is no payment to announce.
    const { body } = event('invoice.paid', undefined, (f) => Object.assign(f.data.object, { amount_paid: 0, amount_due: 0 }));
    expect((await post(body)).json).toMatchObject({ status: 'ignored' });
    expect(await world.drain()).toEqual([]);
  });

  it('refuses an invoice with a wrongly typed field, naming it, even when its id was delivered before', async () => {
    const { body, id } = event('invoice.payment_failed');
    expect((await post(body)).status).toBe(202);
    const broken = event('invoice.payment_failed', id, (f) => Object.assign(f.data.object, { attempt_count: '1' }));
    const res = await post(broken.body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'invalid_payload', message: expect.stringContaining('/data/object/attempt_count') });
    expect(await world.drain()).toHaveLength(1);
  });
});
