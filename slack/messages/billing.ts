// Payments and customers (Stripe, or an app's own billing events): the amount in the
// currency's units, who paid by name and e-mail, and for a failed renewal the attempt
// and the next retry, all on the first line.
import type { Envelope } from '../../shared/envelope.js';
import type { Draft, TemplateTable } from './spec.js';
import { first, join, t, text, type Part, type Text } from './text.js';
import { money } from './money.js';
import { Facts, words } from './values.js';
import { when } from './when.js';
import { named, person } from './who.js';

/** The customer: name and e-mail when the payload has them, else the id. */
export function customer(d: Facts): { who: Text | undefined; id: string | undefined; named: boolean } {
  const name = d.s('customerName', 'customer_name', 'name', 'customer.name');
  const email = d.s('customerEmail', 'customer_email', 'email', 'receiptEmail', 'customer.email');
  const id = d.s('customer', 'customerId', 'customer.id');
  return { who: person(name, email, id), id, named: named(name, email) };
}

/** " for Ana Li (ana@example.com)", or " (cus_…)" when only the id is known. */
export function forWho(d: Facts): Text | undefined {
  const c = customer(d);
  if (!c.who) return undefined;
  return c.named ? t` for ${c.who}` : t` (${c.who})`;
}

/** Ids and mode for the small print: the customer's id once a name stands in the headline. */
export function billingNotes(d: Facts, ...ids: Part[]): Part[] {
  const c = customer(d);
  return [c.named ? c.id : undefined, ...ids, d.b('livemode') === false ? 'test mode' : undefined];
}

export function amountOf(d: Facts): string | undefined {
  const amount = d.n('amount', 'amountPaid', 'amountDue', 'amount_paid', 'amount_due', 'total');
  if (amount !== undefined) return money(amount, d.s('currency'));
  // An app may send a finished amount ("49.00 EUR").
  return d.s('amount');
}

function invoiceOf(d: Facts): string | undefined {
  const number = d.s('invoiceNumber', 'invoice_number', 'invoice.number', 'number');
  if (number) return number;
  return /^invoice\s+(\S+)$/i.exec(d.s('description') ?? '')?.[1];
}

/** "invoice INV-0042, attempt 1, next retry <date>", or the payment's description. */
function paymentDetails(d: Facts): Text | undefined {
  const invoice = invoiceOf(d);
  const attempt = d.n('attempt', 'attemptCount', 'attempt_count');
  const next = nextRetry(d);
  return join(', ', [
    invoice ? t`invoice ${invoice}` : d.s('description'),
    t`attempt ${attempt}`,
    // An invoice attempt with no next one: Stripe has stopped retrying.
    next ? t`next retry ${next}` : attempt !== undefined && d.s('invoice') ? 'no more retries' : undefined,
  ]);
}

function nextRetry(d: Facts): Text | undefined {
  return when(d.at('nextRetryAt') ?? d.at('nextPaymentAttempt') ?? d.at('next_payment_attempt'));
}

function reasonOf(d: Facts): Text | undefined {
  const failure = d.s('failure', 'failureMessage', 'failure_message', 'reason');
  const code = d.s('failureCode', 'declineCode', 'failure_code');
  if (failure && code) return t`${failure} (${words(code)})`;
  return text(failure ?? words(code));
}

const dash = (x: Text | undefined) => (x ? t` — ${x}` : undefined);

function paymentFailed(_e: Envelope, d: Facts): Draft {
  const amount = amountOf(d);
  const c = customer(d);
  const title = amount ? `Payment failed: ${amount}` : 'Payment failed';
  const reason = reasonOf(d);
  const headline = join('', [title, t` from ${c.who}`, dash(paymentDetails(d))])!;
  return {
    icon: ':credit_card:',
    title,
    headline,
    brief: join('', [amount, t` from ${c.who}`, dash(paymentDetails(d))]),
    details: [reason && t`> ${reason}`],
    fields: [
      ['Next retry', nextRetry(d)],
      ['Plan', d.s('plan')],
    ],
    notes: billingNotes(d, d.s('invoice', 'invoiceId'), d.s('paymentIntent', 'charge')),
  };
}

/** Stripe's billing_reason in words: why the invoice was charged. */
const BILLING_REASONS: Record<string, string> = {
  subscription_create: 'first payment',
  subscription_cycle: 'renewal',
  subscription_update: 'plan change',
  subscription_threshold: 'usage threshold',
};

function paymentSucceeded(_e: Envelope, d: Facts): Draft {
  const amount = amountOf(d);
  const c = customer(d);
  const title = amount ? `Payment received: ${amount}` : 'Payment received';
  const invoice = invoiceOf(d);
  const reason = BILLING_REASONS[d.s('billingReason') ?? ''];
  const plan = d.s('plan');
  const what = join(', ', [invoice ? t`invoice ${invoice}` : d.s('description'), reason && plan ? t`${reason} of ${plan}` : (reason ?? (plan && t`for ${plan}`))]);
  return {
    icon: ':moneybag:',
    title,
    headline: join('', [title, t` from ${c.who}`, dash(what)])!,
    brief: join('', [amount, t` from ${c.who}`, dash(what)]),
    notes: billingNotes(d, d.s('invoice', 'invoiceId'), d.s('paymentIntent', 'charge')),
  };
}

/** A refund: how much of what, to whom, and whether the charge is now refunded in full. */
function paymentRefunded(_e: Envelope, d: Facts): Draft {
  const currency = d.s('currency');
  const amount = amountOf(d);
  const c = customer(d);
  const charge = money(d.n('chargeAmount'), currency);
  const full = d.b('fullyRefunded');
  const of = charge && amount !== charge ? t`of ${charge}` : undefined;
  const scope = join(' ', [full === true ? 'full refund' : full === false ? 'partial refund' : undefined, of]);
  const title = amount ? `Refund: ${amount}` : 'Refund';
  return {
    icon: ':leftwards_arrow_with_hook:',
    title,
    headline: join('', [title, t` to ${c.who}`, dash(join(', ', [scope, words(d.s('reason')), d.s('description')]))])!,
    brief: join('', [amount, t` to ${c.who}`]),
    // Earlier partial refunds of the same charge: the total says how much is back with the customer.
    fields: [['Refunded in total', (d.n('amountRefunded') ?? 0) > (d.n('amount') ?? 0) ? money(d.n('amountRefunded'), currency) : undefined]],
    notes: billingNotes(d, d.s('charge'), d.s('paymentIntent')),
  };
}

/** A dispute (chargeback): the amount, the bank's reason, and the deadline for evidence. */
function paymentDisputed(_e: Envelope, d: Facts): Draft {
  const amount = amountOf(d);
  const c = customer(d);
  const due = when(d.at('evidenceDueBy'));
  const title = amount ? `Payment disputed: ${amount}` : 'Payment disputed';
  return {
    icon: ':rotating_light:',
    title,
    headline: join('', [title, t` by ${c.who}`, dash(join(', ', [words(d.s('reason')), t`evidence due ${due}`]))])!,
    brief: join('', [amount, t` by ${c.who}`]),
    fields: [['Evidence due', due], ['Status', words(d.s('status'))]],
    notes: billingNotes(d, d.s('dispute'), d.s('charge')),
  };
}

/** Any other payment.* type an app sends: the verb, the amount, the customer. */
function paymentOther(e: Envelope, d: Facts): Draft {
  const verb = words(e.type.split('.').at(-1)) ?? 'updated';
  const amount = amountOf(d);
  const c = customer(d);
  const title = amount ? `Payment ${verb}: ${amount}` : `Payment ${verb}`;
  return {
    icon: ':moneybag:',
    title,
    headline: join('', [title, t` from ${c.who}`, dash(first(reasonOf(d), paymentDetails(d)))])!,
    brief: join('', [amount, t` from ${c.who}`]),
    fields: [['Plan', d.s('plan')]],
    notes: billingNotes(d, d.s('charge', 'paymentIntent')),
  };
}

function customerCreated(e: Envelope, d: Facts): Draft {
  const c = customer(d);
  const who = c.who ?? text(e.subject);
  return {
    icon: ':bust_in_silhouette:',
    title: who ? `New customer: ${who.plain}` : 'New customer',
    headline: join(': ', ['New customer', who])!,
    brief: who,
    fields: [['Plan', d.s('plan')], ['Company', d.s('company', 'companyName')]],
    notes: billingNotes(d),
  };
}

/** checkout.* (a completed Checkout session, an app's own checkout): what was paid, by whom, for what. */
function checkout(e: Envelope, d: Facts): Draft {
  const verb = words(e.type.split('.').at(-1)) ?? 'completed';
  const amount = amountOf(d);
  const c = customer(d);
  const mode = d.s('mode');
  const what = first(d.s('plan', 'product'), mode === 'subscription' ? 'a subscription' : undefined, d.s('description'));
  const unpaid = d.s('paymentStatus') === 'unpaid' ? 'payment pending' : undefined;
  const title = amount ? `Checkout ${verb}: ${amount}` : `Checkout ${verb}`;
  return {
    icon: ':shopping_trolley:',
    title,
    headline: join('', [title, t` from ${c.who}`, dash(join(', ', [what && t`for ${what}`, unpaid]))])!,
    brief: join('', [amount, t` from ${c.who}`]),
    notes: billingNotes(d, d.s('session'), d.s('subscription')),
  };
}

export const BILLING: TemplateTable = {
  'payment.failed': paymentFailed,
  'payment.succeeded': paymentSucceeded,
  'payment.refunded': paymentRefunded,
  'payment.disputed': paymentDisputed,
  'payment.*': paymentOther,
  'customer.created': customerCreated,
  'checkout.*': checkout,
};
