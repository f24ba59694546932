// The Stripe objects the billing events carry (API version 2024-06-20), as schemas for the
// fields the mapping reads, and the event data each becomes. Amounts stay integers in the
// currency's minor units, next to the currency (lowercase ISO 4217), so a reader can show
// them in any format, zero-decimal currencies included.
import { Type, type TSchema } from '@sinclair/typebox';
import { isoFromSeconds, PayloadSchema } from './context.js';
import { arr, at, num, obj, str, type Json } from './values.js';

const Nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Id = Type.String({ minLength: 1, maxLength: 200 });
const Amount = Type.Integer({ minimum: 0 });
const Currency = Type.String({ pattern: '^[A-Za-z]{3}$' });
const Text = Type.String({ maxLength: 5000 });

const Recurring = Type.Object({ interval: Type.String(), interval_count: Type.Optional(Type.Integer({ minimum: 1 })) });
const Price = Type.Object({
  id: Type.String(),
  nickname: Nullable(Text),
  lookup_key: Nullable(Text),
  unit_amount: Nullable(Type.Integer()),
  recurring: Nullable(Recurring),
});

const Invoice = Type.Object({
  id: Id,
  object: Type.Literal('invoice'),
  customer: Nullable(Id),
  customer_name: Nullable(Text),
  customer_email: Nullable(Text),
  amount_due: Amount,
  amount_paid: Amount,
  currency: Currency,
  attempt_count: Type.Integer({ minimum: 0 }),
  next_payment_attempt: Nullable(Type.Integer()),
  hosted_invoice_url: Nullable(Text),
  number: Nullable(Text),
  billing_reason: Nullable(Type.String()),
  subscription: Nullable(Id),
  lines: Type.Optional(Type.Object({ data: Type.Array(Type.Object({ price: Nullable(Price), quantity: Nullable(Type.Integer()) })) })),
});

const Charge = Type.Object({
  id: Id,
  object: Type.Literal('charge'),
  amount: Amount,
  amount_refunded: Amount,
  currency: Currency,
  refunded: Type.Boolean(),
  customer: Nullable(Id),
  payment_intent: Nullable(Id),
  description: Nullable(Text),
  receipt_email: Nullable(Text),
  billing_details: Nullable(Type.Object({ name: Nullable(Text), email: Nullable(Text) })),
  // Not included in webhooks since 2022-11-15 unless expanded; read when there.
  refunds: Nullable(Type.Object({ data: Type.Array(Type.Object({ reason: Nullable(Type.String()) })) })),
});

const Dispute = Type.Object({
  id: Id,
  object: Type.Literal('dispute'),
  amount: Amount,
  currency: Currency,
  charge: Id,
  payment_intent: Nullable(Id),
  reason: Type.String(),
  status: Type.String(),
  evidence_details: Type.Optional(Type.Object({ due_by: Nullable(Type.Integer()) })),
});

const CheckoutSession = Type.Object({
  id: Id,
  object: Type.Literal('checkout.session'),
  mode: Type.String(),
  amount_total: Nullable(Amount),
  currency: Nullable(Currency),
  customer: Nullable(Id),
  customer_details: Nullable(Type.Object({ name: Nullable(Text), email: Nullable(Text) })),
  payment_status: Type.String(),
  subscription: Nullable(Id),
  payment_intent: Nullable(Id),
});

/** The event around an object, so a refusal names the field where the sender sees it (/data/object/…). */
function eventOf<T extends TSchema>(object: T, what: string) {
  return new PayloadSchema(Type.Object({ data: Type.Object({ object, previous_attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }) }), what);
}
export const invoiceEvent = eventOf(Invoice, 'a Stripe invoice event');
export const chargeEvent = eventOf(Charge, 'a Stripe charge event');
export const disputeEvent = eventOf(Dispute, 'a Stripe dispute event');
export const checkoutEvent = eventOf(CheckoutSession, 'a Stripe Checkout Session event');
export type Invoice = ReturnType<typeof invoiceEvent.check>['data']['object'];
export type Charge = ReturnType<typeof chargeEvent.check>['data']['object'];
export type Dispute = ReturnType<typeof disputeEvent.check>['data']['object'];
export type CheckoutSession = ReturnType<typeof checkoutEvent.check>['data']['object'];

/** An invoice paid or not: what, for whom, and the plan of its subscription line. */
export function invoiceData(inv: Invoice, amount: number): Json {
  const line = inv.lines?.data.find((l) => l.price?.recurring) ?? inv.lines?.data[0];
  const price = line?.price ?? undefined;
  return {
    invoice: inv.id,
    invoiceNumber: inv.number,
    amount,
    currency: inv.currency.toLowerCase(),
    customer: inv.customer,
    customerName: inv.customer_name,
    customerEmail: inv.customer_email,
    subscription: inv.subscription,
    billingReason: inv.billing_reason,
    plan: price ? (price.nickname ?? price.lookup_key ?? price.id) : undefined,
    interval: price?.recurring?.interval,
    intervalCount: countOver1(price?.recurring?.interval_count),
    hostedInvoiceUrl: inv.hosted_invoice_url,
  };
}

/** A refund: this refund's amount (the change in amount_refunded), and the total so far. */
export function refundData(charge: Charge, previous: Json): Json {
  const before = num(previous.amount_refunded);
  return {
    charge: charge.id,
    paymentIntent: charge.payment_intent,
    amount: before !== undefined && before <= charge.amount_refunded ? charge.amount_refunded - before : charge.amount_refunded,
    amountRefunded: charge.amount_refunded,
    chargeAmount: charge.amount,
    currency: charge.currency.toLowerCase(),
    fullyRefunded: charge.refunded,
    customer: charge.customer,
    customerName: charge.billing_details?.name,
    customerEmail: charge.billing_details?.email ?? charge.receipt_email,
    description: charge.description,
    reason: charge.refunds?.data[0]?.reason,
  };
}

export function disputeData(d: Dispute): Json {
  return {
    dispute: d.id,
    charge: d.charge,
    paymentIntent: d.payment_intent,
    amount: d.amount,
    currency: d.currency.toLowerCase(),
    reason: d.reason,
    status: d.status,
    evidenceDueBy: isoFromSeconds(d.evidence_details?.due_by ?? undefined),
  };
}

export function checkoutData(s: CheckoutSession): Json {
  return {
    session: s.id,
    mode: s.mode,
    amount: s.amount_total,
    currency: s.currency?.toLowerCase(),
    customer: s.customer,
    customerName: s.customer_details?.name,
    customerEmail: s.customer_details?.email,
    paymentStatus: s.payment_status,
    subscription: s.subscription,
    paymentIntent: s.payment_intent,
  };
}

export function paymentData(o: Json): Json {
  return {
    paymentIntent: str(o.id),
    amount: num(o.amount_received) || num(o.amount),
    currency: str(o.currency)?.toLowerCase(),
    customer: str(o.customer),
    customerEmail: str(o.receipt_email),
    description: str(o.description),
    receiptEmail: str(o.receipt_email),
  };
}

/** The first item's price, or the legacy single plan. */
function priceOf(o: Json): Json | undefined {
  const item = obj(arr(at(o, 'items', 'data'))[0]);
  return obj(item?.price) ?? obj(o.plan);
}

function countOver1(count: number | null | undefined): number | undefined {
  return count !== undefined && count !== null && count !== 1 ? count : undefined;
}

/** One side of a subscription: the plan, its amount per interval, the interval (every intervalCount). */
export function planSide(o: Json): { plan?: string; amount?: number; interval?: string; intervalCount?: number } {
  const price = priceOf(o);
  return {
    plan: planName(o),
    amount: num(price?.unit_amount) ?? num(price?.amount),
    interval: str(at(price, 'recurring', 'interval')) ?? str(price?.interval),
    intervalCount: countOver1(num(at(price, 'recurring', 'interval_count')) ?? num(price?.interval_count)),
  };
}

export function subscriptionData(o: Json): Json {
  const price = priceOf(o);
  const item = obj(arr(at(o, 'items', 'data'))[0]);
  return {
    subscription: str(o.id),
    customer: str(o.customer),
    status: str(o.status),
    ...planSide(o),
    quantity: num(item?.quantity) ?? num(o.quantity),
    currency: str(price?.currency)?.toLowerCase() ?? str(o.currency)?.toLowerCase(),
    trialEnd: isoFromSeconds(num(o.trial_end)),
  };
}

export function planName(o: Json): string | undefined {
  const price = priceOf(o);
  return str(price?.nickname) ?? str(price?.lookup_key) ?? str(price?.id);
}

const PER_YEAR: Record<string, number> = { day: 365, week: 52, month: 12, year: 1 };

/** Sum over the items of amount x quantity, per year; undefined when it cannot be told. */
export function yearlyAmount(o: Json): number | undefined {
  const items = arr(at(o, 'items', 'data'));
  const lines = items.length > 0 ? items.map((i) => ({ price: obj(at(i, 'price')) ?? obj(at(i, 'plan')), quantity: num(at(i, 'quantity')) ?? 1 })) : [{ price: obj(o.plan), quantity: num(o.quantity) ?? 1 }];
  let total = 0;
  for (const { price, quantity } of lines) {
    const amount = num(price?.unit_amount) ?? num(price?.amount);
    const interval = str(at(price, 'recurring', 'interval')) ?? str(price?.interval);
    const count = num(at(price, 'recurring', 'interval_count')) ?? num(price?.interval_count) ?? 1;
    const perYear = interval ? PER_YEAR[interval] : undefined;
    if (amount === undefined || perYear === undefined || count <= 0) return undefined;
    total += (amount * quantity * perYear) / count;
  }
  return Math.round(total);
}
