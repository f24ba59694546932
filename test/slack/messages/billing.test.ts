// Billing messages from the data the Stripe adapter carries (invoices with the customer's
// name, the attempt and the next retry; refunds, disputes, Checkout, pauses) and from
// older or thinner payloads (ids only, a yearly previous amount).
import { describe, expect, it } from 'vitest';
import { context, fields, header, render, section } from './helpers.js';

const stripe = { source: 'stripe' };

describe('billing messages', () => {
  it('a failed renewal: amount, who by name and e-mail, invoice, attempt and next retry on the first line', () => {
    const m = render(
      {
        type: 'payment.failed',
        severity: 'error',
        subject: 'cus_Q1',
        data: { invoice: 'in_1', invoiceNumber: 'INV-0042', amount: 2900, currency: 'usd', customer: 'cus_Q1', customerName: 'Ana Li', customerEmail: 'ana@example.com', attempt: 1, nextRetryAt: '2025-05-30T09:00:00.000Z', plan: 'Basic', interval: 'month', billingReason: 'subscription_cycle', livemode: true },
      },
      stripe,
    );
    expect(m.text).toBe(':red_circle: Payment failed: $29.00 from Ana Li (ana@example.com) — invoice INV-0042, attempt 1, next retry Fri 30 May 2025, 09:00 UTC');
    expect(header(m)).toBe(':red_circle: Payment failed: $29.00');
    expect(fields(m)['Next retry']).toBe('<!date^1748595600^{date_short_pretty} {time}|Fri 30 May 2025, 09:00 UTC>');
    // The customer id is kept, in the small print; the subject is not repeated on the first line.
    expect(context(m)).toContain('cus_Q1');
    expect(context(m)).not.toContain('test mode');
  });

  it('the last failed attempt says there are no more retries', () => {
    const m = render({ type: 'payment.failed', data: { invoice: 'in_1', invoiceNumber: 'INV-7', amount: 500000, currency: 'jpy', customerEmail: 'ken@example.jp', attempt: 4 } }, stripe);
    expect(m.text).toContain('Payment failed: ¥500,000 from ken@example.jp — invoice INV-7, attempt 4, no more retries');
  });

  it('a card declined outside an invoice: the reason under the first line', () => {
    const m = render({ type: 'payment.failed', data: { amount: 19900, currency: 'eur', customer: 'cus_A', description: 'Order 77', failure: 'Your card has insufficient funds.', failureCode: 'insufficient_funds' } }, stripe);
    expect(m.text).toContain('Payment failed: €199.00 from cus_A — Order 77');
    expect(section(m)).toContain('\n> Your card has insufficient funds. (insufficient funds)');
  });

  it('a paid renewal names the plan it renewed', () => {
    const m = render({ type: 'payment.succeeded', data: { invoiceNumber: 'INV-9', amount: 3000, currency: 'usd', customerName: 'Sam Ortiz', customerEmail: 'sam@example.com', plan: 'Pro', billingReason: 'subscription_cycle' } }, stripe);
    expect(m.text).toBe(':large_blue_circle: Payment received: $30.00 from Sam Ortiz (sam@example.com) — invoice INV-9, renewal of Pro');
  });

  it('refunds, disputes and checkouts say how much, for whom, and why', () => {
    const refund = render({ type: 'payment.refunded', data: { amount: 1000, amountRefunded: 1000, chargeAmount: 4900, currency: 'eur', fullyRefunded: false, customerName: 'Ada', customerEmail: 'ada@example.com', reason: 'requested_by_customer' } }, stripe);
    expect(refund.text).toContain('Refund: €10.00 to Ada (ada@example.com) — partial refund of €49.00, requested by customer');
    const dispute = render({ type: 'payment.disputed', severity: 'error', data: { dispute: 'dp_1', charge: 'ch_1', amount: 4900, currency: 'usd', reason: 'fraudulent', status: 'needs_response', evidenceDueBy: '2025-06-10T23:59:59.000Z' } }, stripe);
    expect(dispute.text).toContain('Payment disputed: $49.00 — fraudulent, evidence due Tue 10 Jun 2025, 23:59 UTC');
    expect(fields(dispute).Status).toBe('needs response');
    const checkout = render({ type: 'checkout.completed', data: { session: 'cs_1', mode: 'subscription', amount: 1200, currency: 'usd', customerName: 'Bo', customerEmail: 'bo@example.com', paymentStatus: 'paid' } }, stripe);
    expect(checkout.text).toContain('Checkout completed: $12.00 from Bo (bo@example.com) — for a subscription');
  });

  it('plan changes show each side with its own interval, and the yearly difference', () => {
    const m = render(
      { type: 'subscription.upgraded', subject: 'cus_Z', data: { customer: 'cus_Z', plan: 'Pro', amount: 3000, currency: 'usd', interval: 'month', previousPlan: 'Basic', previousAmount: 1200, previousInterval: 'month', yearlyAmount: 36000, previousYearlyAmount: 14400 } },
      stripe,
    );
    expect(m.text).toBe(':large_blue_circle: Upgrade: Basic $12/mo → Pro $30/mo (cus_Z)');
    expect(fields(m)).toEqual({ Plan: 'Pro $30/mo', 'Previous plan': 'Basic $12/mo', 'Per year': '$144/yr → $360/yr (+$216)' });
  });

  it('with only a yearly previous amount (no previousInterval), never labels it per month', () => {
    const m = render({ type: 'subscription.upgraded', data: { customer: 'cus_Z', plan: 'Pro', amount: 19900, currency: 'eur', interval: 'month', previousPlan: 'Starter', previousAmount: 58800, yearlyAmount: 238800 } }, stripe);
    expect(m.text).toContain('Upgrade: Starter → Pro €199/mo (cus_Z)');
    expect(fields(m)['Per year']).toBe('€588/yr → €2,388/yr (+€1,800)');
  });

  it('seats, pauses and a named customer', () => {
    const seats = render({ type: 'subscription.created', data: { plan: 'Team', amount: 1000, currency: 'usd', interval: 'month', quantity: 5, customerName: 'Acme', customerEmail: 'ops@acme.test' } }, stripe);
    expect(seats.text).toContain('New subscription: 5 × Team $10/mo for Acme (ops@acme.test)');
    const paused = render({ type: 'subscription.paused', severity: 'warning', data: { customer: 'cus_P', plan: 'Pro', amount: 3000, currency: 'usd', interval: 'month', pauseBehavior: 'void', resumesAt: '2025-07-01T00:00:00.000Z' } }, stripe);
    expect(paused.text).toContain('Subscription paused: Pro $30/mo (cus_P) — until Tue 1 Jul 2025, 00:00 UTC, invoices voided');
  });

  it('an app\'s own payment event with a finished amount string still reads', () => {
    const m = render({ type: 'payment.succeeded', subject: 'Order 1042', data: { amount: '49.00 EUR' } });
    expect(m.text).toBe(':large_blue_circle: Payment received: 49.00 EUR — Order 1042');
  });
});
