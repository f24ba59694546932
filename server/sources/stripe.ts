// POST /v1/sources/stripe: Stripe events, verified with Stripe-Signature over the raw
// body. The Stripe event id becomes the envelope id and the dedup key, so Stripe's
// retries are neither published nor posted twice. The objects' schemas and data are in
// stripe-objects.ts.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { SourcesConfig } from '../../shared/config/schema.js';
import type { EventInput } from '../../shared/envelope.js';
import { SOURCE_TYPES } from '../../shared/event-types.js';
import { compact, deliver, header, ignore, isoFromSeconds, links, PayloadSchema, rawBody, unauthorized, useRawBody, type Mapped, type SourceContext } from './context.js';
import { verifyStripe } from './signatures.js';
import {
  chargeEvent,
  checkoutData,
  checkoutEvent,
  disputeData,
  disputeEvent,
  invoiceData,
  invoiceEvent,
  paymentData,
  planSide,
  refundData,
  subscriptionData,
  yearlyAmount,
  type Invoice,
} from './stripe-objects.js';
import { at, num, obj, str, type Json } from './values.js';

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
export const STRIPE_EVENT_TYPES = SOURCE_TYPES.stripe;
type StripeType = keyof typeof STRIPE_EVENT_TYPES;

export function stripeRoutes(ctx: SourceContext, config: StripeConfig): FastifyPluginAsync {
  return async (app) => {
    useRawBody(app);
    app.post('/v1/sources/stripe', async (request, reply) => {
      const body = rawBody(request);
      const nowSeconds = Math.floor(ctx.clock.now() / 1000);
      unauthorized(verifyStripe(header(request, 'stripe-signature'), body, config.secrets, nowSeconds, config.toleranceSeconds));
      const event = stripeEvent.parse(body);
      return deliver(ctx, request, reply, mapStripeEvent(event, config.project), { source: 'stripe', deliveryKey: event.id, severities: config.severities });
    });
  };
}

type Link = [string, string | null | undefined];
type Make = (type: StripeType, data: Json, ...links: Link[]) => Mapped;

export function mapStripeEvent(event: StripeEvent, project?: string): Mapped {
  const o = event.data.object;
  const dashboard = `https://dashboard.stripe.com/${event.livemode ? '' : 'test/'}`;
  const customer = str(o.customer) ?? (event.type.startsWith('customer.') && !event.type.startsWith('customer.subscription') ? str(o.id) : undefined);
  const make: Make = (type, data, ...link) => {
    const input: EventInput = {
      type,
      id: event.id,
      time: isoFromSeconds(event.created),
      severity: STRIPE_EVENT_TYPES[type],
      data: compact({ ...data, stripeEvent: event.type, livemode: event.livemode, links: link.length > 0 ? links(...link) : undefined }),
    };
    if (customer) input.subject = customer;
    if (project) input.project = project;
    return { event: compact(input) as EventInput };
  };
  const subscriptionLink: Link = ['View subscription', `${dashboard}subscriptions/${str(o.id) ?? ''}`];
  const invoiceLinks = (inv: Invoice): Link[] => [['View invoice', `${dashboard}invoices/${inv.id}`], ['Invoice page', inv.hosted_invoice_url]];

  switch (event.type) {
    // A subscription's payments come as invoice events, which name the customer and the
    // attempt; the PaymentIntent behind an invoice would say the same thing twice.
    case 'payment_intent.succeeded':
      if (str(o.invoice)) return ignore(`Stripe payment for invoice ${str(o.invoice)}: bellhop reports it from invoice.paid`);
      return make('payment.succeeded', paymentData(o), ['View payment', `${dashboard}payments/${str(o.id) ?? ''}`]);
    case 'payment_intent.payment_failed':
      if (str(o.invoice)) return ignore(`Stripe payment for invoice ${str(o.invoice)}: bellhop reports it from invoice.payment_failed`);
      return make(
        'payment.failed',
        {
          ...paymentData(o),
          failure: str(at(o, 'last_payment_error', 'message')),
          failureCode: str(at(o, 'last_payment_error', 'decline_code')) ?? str(at(o, 'last_payment_error', 'code')),
        },
        ['View payment', `${dashboard}payments/${str(o.id) ?? ''}`],
      );
    case 'invoice.paid': {
      const inv = invoiceEvent.check(event).data.object;
      if (inv.amount_paid === 0) return ignore('Stripe invoice paid with nothing charged (a trial, a credit or a 100% coupon)');
      return make('payment.succeeded', invoiceData(inv, inv.amount_paid), ...invoiceLinks(inv));
    }
    case 'invoice.payment_failed': {
      const inv = invoiceEvent.check(event).data.object;
      // No next attempt: Stripe has given up (or the invoice is not charged automatically).
      const next = inv.next_payment_attempt ?? undefined;
      return make('payment.failed', { ...invoiceData(inv, inv.amount_due), attempt: inv.attempt_count, nextRetryAt: isoFromSeconds(next) }, ...invoiceLinks(inv));
    }
    case 'charge.refunded': {
      const { data } = chargeEvent.check(event);
      const target = data.object.payment_intent ?? data.object.id;
      return make('payment.refunded', refundData(data.object, data.previous_attributes ?? {}), ['View payment', `${dashboard}payments/${target}`]);
    }
    case 'charge.dispute.created': {
      const dispute = disputeEvent.check(event).data.object;
      return make('payment.disputed', disputeData(dispute), ['View dispute', `${dashboard}disputes/${dispute.id}`]);
    }
    case 'checkout.session.completed': {
      const session = checkoutEvent.check(event).data.object;
      if (session.mode === 'setup') return ignore('Stripe Checkout in setup mode only saved a payment method');
      const link: Link = session.subscription
        ? ['View subscription', `${dashboard}subscriptions/${session.subscription}`]
        : session.payment_intent
          ? ['View payment', `${dashboard}payments/${session.payment_intent}`]
          : ['View customer', session.customer ? `${dashboard}customers/${session.customer}` : undefined];
      return make('checkout.completed', checkoutData(session), link);
    }
    case 'customer.created':
      return make(
        'customer.created',
        { customer: str(o.id), email: str(o.email), name: str(o.name), customerEmail: str(o.email), customerName: str(o.name) },
        ['View customer', `${dashboard}customers/${str(o.id) ?? ''}`],
      );
    case 'customer.subscription.created':
      return make('subscription.created', subscriptionData(o), subscriptionLink);
    case 'customer.subscription.deleted':
      return make('subscription.canceled', { ...subscriptionData(o), ...cancellation(o) }, subscriptionLink);
    // Paused: the trial ended without a payment method (trial_settings end_behavior "pause").
    case 'customer.subscription.paused':
      return make('subscription.paused', subscriptionData(o), subscriptionLink);
    case 'customer.subscription.resumed':
      return make('subscription.resumed', subscriptionData(o), subscriptionLink);
    case 'customer.subscription.trial_will_end':
      return make('trial.ending', { ...subscriptionData(o), trialEnd: isoFromSeconds(num(o.trial_end)) }, subscriptionLink);
    case 'customer.subscription.updated':
      return mapSubscriptionUpdate(event, make, subscriptionLink);
    default:
      return ignore(`Stripe event ${event.type} is not mapped`);
  }
}

function cancellation(o: Json): Json {
  return { reason: str(at(o, 'cancellation_details', 'reason')), feedback: str(at(o, 'cancellation_details', 'feedback')), comment: str(at(o, 'cancellation_details', 'comment')) };
}

/**
 * An update is a cancellation (cancel_at_period_end turned on), a pause or resumption of
 * payment collection, or a plan change: an upgrade or a downgrade by the yearly amount
 * before and after, so a move from monthly to yearly billing is judged fairly.
 */
function mapSubscriptionUpdate(event: StripeEvent, make: Make, link: Link): Mapped {
  const o = event.data.object;
  const previous = event.data.previous_attributes ?? {};
  if (previous.cancel_at_period_end === false && o.cancel_at_period_end === true) {
    return make('subscription.canceled', { ...subscriptionData(o), atPeriodEnd: true, cancelAt: isoFromSeconds(num(o.cancel_at) ?? num(o.current_period_end)), ...cancellation(o) }, link);
  }
  if ('pause_collection' in previous) {
    const pause = obj(o.pause_collection);
    if (pause && !obj(previous.pause_collection)) {
      return make('subscription.paused', { ...subscriptionData(o), pauseBehavior: str(pause.behavior), resumesAt: isoFromSeconds(num(pause.resumes_at)) }, link);
    }
    if (!pause && obj(previous.pause_collection)) return make('subscription.resumed', subscriptionData(o), link);
  }
  if (!('items' in previous) && !('plan' in previous)) return ignore('Stripe subscription update without a plan change');
  const before = { ...o, ...previous };
  const afterYear = yearlyAmount(o);
  const beforeYear = yearlyAmount(before);
  if (afterYear === undefined || beforeYear === undefined || afterYear === beforeYear) return ignore('Stripe subscription plan changed without a price change');
  const type = afterYear > beforeYear ? 'subscription.upgraded' : 'subscription.downgraded';
  const was = planSide(before);
  return make(
    type,
    {
      ...subscriptionData(o),
      previousPlan: was.plan,
      // Per previousInterval, like amount per interval: the yearly figures compare them.
      previousAmount: was.amount,
      previousInterval: was.interval,
      previousIntervalCount: was.intervalCount,
      yearlyAmount: afterYear,
      previousYearlyAmount: beforeYear,
    },
    link,
  );
}
