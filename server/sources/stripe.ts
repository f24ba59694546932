// POST /v1/sources/stripe: Stripe events, verified with Stripe-Signature over the raw
// body. The Stripe event id becomes the envelope id and the dedup key, so Stripe's
// retries are neither published nor posted twice.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput, Severity } from '../../shared/envelope.js';
import { compact, deliver, header, ignore, isoFromSeconds, links, PayloadSchema, rawBody, unauthorized, useRawBody, type Mapped, type SourceContext } from './context.js';
import { verifyStripe } from './signatures.js';
import { arr, at, num, obj, str, type Json } from './values.js';

export type StripeConfig = SourcesConfig['stripe'];

const StripeEvent = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  object: Type.Literal('event'),
  type: Type.String({ minLength: 1 }),
  created: Type.Number(),
  livemode: Type.Optional(Type.Boolean()),
  data: Type.Object({
    object: Type.Record(Type.String(), Type.Unknown()),
    previous_attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});
const stripeEvent = new PayloadSchema(StripeEvent, 'a Stripe event');
export type StripeEvent = ReturnType<typeof stripeEvent.check>;

/** Every type this source emits, with its severity; `bellhop types` lists the same table. */
export const STRIPE_EVENT_TYPES = {
  'payment.succeeded': 'info',
  'payment.failed': 'warning',
  'customer.created': 'info',
  'subscription.created': 'info',
  'subscription.canceled': 'info',
  'subscription.upgraded': 'info',
  'subscription.downgraded': 'info',
  'trial.ending': 'info',
} as const satisfies Readonly<Record<string, Severity>>;
type StripeType = keyof typeof STRIPE_EVENT_TYPES;

export function stripeRoutes(ctx: SourceContext, config: StripeConfig): FastifyPluginAsync {
  return async (app) => {
    useRawBody(app);
    app.post('/v1/sources/stripe', async (request, reply) => {
      const body = rawBody(request);
      const nowSeconds = Math.floor(ctx.clock.now() / 1000);
      unauthorized(verifyStripe(header(request, 'stripe-signature'), body, config.secrets, nowSeconds, config.toleranceSeconds));
      const event = stripeEvent.parse(body);
      return deliver(ctx, request, reply, mapStripeEvent(event, config.project), { source: 'stripe', deliveryKey: event.id });
    });
  };
}

export function mapStripeEvent(event: StripeEvent, project?: string): Mapped {
  const o = event.data.object;
  const dashboard = `https://dashboard.stripe.com/${event.livemode ? '' : 'test/'}`;
  const customer = str(o.customer) ?? (event.type.startsWith('customer.') && !event.type.startsWith('customer.subscription') ? str(o.id) : undefined);
  const make = (type: StripeType, data: Json, link?: [string, string]): Mapped => {
    const input: EventInput = {
      type,
      id: event.id,
      time: isoFromSeconds(event.created),
      severity: STRIPE_EVENT_TYPES[type],
      data: compact({ ...data, stripeEvent: event.type, livemode: event.livemode, links: link ? links(link) : undefined }),
    };
    if (customer) input.subject = customer;
    if (project) input.project = project;
    return { event: compact(input) as EventInput };
  };

  switch (event.type) {
    case 'payment_intent.succeeded':
      return make('payment.succeeded', paymentData(o), ['View payment', `${dashboard}payments/${str(o.id) ?? ''}`]);
    case 'payment_intent.payment_failed':
      return make(
        'payment.failed',
        {
          ...paymentData(o),
          failure: str(at(o, 'last_payment_error', 'message')),
          failureCode: str(at(o, 'last_payment_error', 'decline_code')) ?? str(at(o, 'last_payment_error', 'code')),
        },
        ['View payment', `${dashboard}payments/${str(o.id) ?? ''}`],
      );
    case 'customer.created':
      return make('customer.created', { customer: str(o.id), email: str(o.email), name: str(o.name) }, ['View customer', `${dashboard}customers/${str(o.id) ?? ''}`]);
    case 'customer.subscription.created':
      return make('subscription.created', subscriptionData(o), subscriptionLink(dashboard, o));
    case 'customer.subscription.deleted':
      return make('subscription.canceled', { ...subscriptionData(o), reason: str(at(o, 'cancellation_details', 'reason')) }, subscriptionLink(dashboard, o));
    case 'customer.subscription.trial_will_end':
      return make('trial.ending', { ...subscriptionData(o), trialEnd: isoFromSeconds(num(o.trial_end)) }, subscriptionLink(dashboard, o));
    case 'customer.subscription.updated':
      return mapSubscriptionUpdate(event, make, dashboard);
    default:
      return ignore(`Stripe event ${event.type} is not mapped`);
  }
}

type Make = (type: StripeType, data: Json, link?: [string, string]) => Mapped;

/** Upgrades and downgrades compare the yearly amount before and after; cancel_at_period_end is a cancellation. */
function mapSubscriptionUpdate(event: StripeEvent, make: Make, dashboard: string): Mapped {
  const o = event.data.object;
  const previous = event.data.previous_attributes ?? {};
  if (previous.cancel_at_period_end === false && o.cancel_at_period_end === true) {
    return make(
      'subscription.canceled',
      { ...subscriptionData(o), atPeriodEnd: true, cancelAt: isoFromSeconds(num(o.cancel_at) ?? num(o.current_period_end)), reason: str(at(o, 'cancellation_details', 'reason')) },
      subscriptionLink(dashboard, o),
    );
  }
  if (!('items' in previous) && !('plan' in previous)) return ignore('Stripe subscription update without a plan change');
  const after = yearlyAmount(o);
  const before = yearlyAmount({ ...o, ...previous });
  if (after === undefined || before === undefined || after === before) return ignore('Stripe subscription plan changed without a price change');
  const type = after > before ? 'subscription.upgraded' : 'subscription.downgraded';
  return make(type, { ...subscriptionData(o), previousPlan: planName({ ...o, ...previous }), previousAmount: before, yearlyAmount: after }, subscriptionLink(dashboard, o));
}

function paymentData(o: Json): Json {
  return {
    paymentIntent: str(o.id),
    amount: num(o.amount_received) || num(o.amount),
    currency: str(o.currency),
    customer: str(o.customer),
    description: str(o.description),
    receiptEmail: str(o.receipt_email),
  };
}

function subscriptionData(o: Json): Json {
  const item = obj(arr(at(o, 'items', 'data'))[0]);
  const price = obj(item?.price) ?? obj(o.plan);
  return {
    subscription: str(o.id),
    customer: str(o.customer),
    status: str(o.status),
    plan: planName(o),
    amount: num(price?.unit_amount) ?? num(price?.amount),
    currency: str(price?.currency),
    interval: str(at(price, 'recurring', 'interval')) ?? str(price?.interval),
    trialEnd: isoFromSeconds(num(o.trial_end)),
  };
}

function subscriptionLink(dashboard: string, o: Json): [string, string] {
  return ['View subscription', `${dashboard}subscriptions/${str(o.id) ?? ''}`];
}

function planName(o: Json): string | undefined {
  const item = obj(arr(at(o, 'items', 'data'))[0]);
  const price = obj(item?.price) ?? obj(o.plan);
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
