// Subscriptions and trials: the plan with its price per billing interval on each side
// of a change ("Starter €49/mo → Pro €199/mo"), never a yearly figure next to a monthly
// one, and the customer by name when the payload names them.
import type { Envelope } from '../../shared/envelope.js';
import type { Draft, TemplateTable } from './spec.js';
import { join, t, text, type Text } from './text.js';
import { money, price, yearly } from './money.js';
import { billingNotes, forWho } from './billing.js';
import { Facts, words } from './values.js';
import { when } from './when.js';

interface Side {
  plan: string | undefined;
  amount: number | undefined;
  interval: string | undefined;
  count: number | undefined;
  quantity?: number | undefined;
}

function current(d: Facts): Side {
  return { plan: d.s('plan', 'planName'), amount: d.n('amount', 'unitAmount'), interval: d.s('interval'), count: d.n('intervalCount'), quantity: d.n('quantity') };
}

/**
 * The plan before a change. With previousInterval, previousAmount is per that interval.
 * Without it (adapters before they carried the interval), previousAmount is a yearly
 * total, so only the plan name is shown and the prices are compared per year instead.
 */
function previous(d: Facts): Side & { yearlyOnly: boolean } {
  const interval = d.s('previousInterval');
  const amount = d.n('previousAmount');
  return { plan: d.s('previousPlan', 'previousPlanName'), amount: interval ? amount : undefined, interval, count: d.n('previousIntervalCount'), yearlyOnly: !interval && amount !== undefined };
}

/** "Pro €199/mo", "Pro", "€199/mo", "5 × Team €10/mo" (the price is per seat). */
export function planText(side: Side, currency: string | undefined): Text | undefined {
  const seats = side.quantity !== undefined && side.quantity > 1 ? `${side.quantity} ×` : undefined;
  return join(' ', [seats, side.plan, price(side.amount, currency, side.interval, side.count)]);
}

function status(d: Facts): Text | undefined {
  const s = d.s('status');
  return s && s !== 'active' ? text(words(s)) : undefined;
}

function subscriptionCreated(_e: Envelope, d: Facts): Draft {
  const side = current(d);
  const plan = planText(side, d.s('currency'));
  const trial = d.s('status') === 'trialing' ? t`, trial until ${when(d.at('trialEnd'))}` : undefined;
  return {
    icon: ':tada:',
    title: side.plan ? `New subscription: ${side.plan}` : 'New subscription',
    headline: join('', ['New subscription', plan && t`: ${plan}`, forWho(d), trial])!,
    brief: join('', [plan, forWho(d), trial]),
    notes: billingNotes(d, d.s('subscription')),
  };
}

function subscriptionCanceled(_e: Envelope, d: Facts): Draft {
  const plan = planText(current(d), d.s('currency'));
  const later = d.b('atPeriodEnd') === true;
  const reason = text(words(d.s('reason', 'cancellationReason')));
  const what = later ? join('', ['Subscription set to cancel', t` on ${when(d.at('cancelAt'))}`])! : text('Subscription canceled')!;
  return {
    icon: ':broken_heart:',
    title: join(': ', [later ? 'Subscription set to cancel' : 'Subscription canceled', d.s('plan')])!.plain,
    headline: join('', [what, plan && t`: ${plan}`, forWho(d), reason && t` — ${reason}`])!,
    fields: [['Ends', later ? when(d.at('cancelAt')) : undefined], ['Feedback', words(d.s('feedback'))], ['Comment', d.s('comment')]],
    notes: billingNotes(d, d.s('subscription')),
  };
}

function planChange(direction: 'up' | 'down') {
  return (_e: Envelope, d: Facts): Draft => {
    const currency = d.s('currency');
    const now = current(d);
    const before = previous(d);
    const label = direction === 'up' ? 'Upgrade' : 'Downgrade';
    const change = join(' → ', [planText(before, currency) ?? 'previous plan', planText(now, currency)]);
    // The adapter's yearly totals count every item and seat; computing them here is the fallback.
    const beforeYear = d.n('previousYearlyAmount') ?? (before.yearlyOnly ? d.n('previousAmount') : yearly(before.amount, before.interval, before.count));
    const afterYear = d.n('yearlyAmount') ?? yearly(now.amount, now.interval, now.count);
    const diff = beforeYear !== undefined && afterYear !== undefined ? afterYear - beforeYear : undefined;
    const perYear =
      beforeYear !== undefined && afterYear !== undefined && diff !== undefined
        ? t`${money(beforeYear, currency, { whole: true })}/yr → ${money(afterYear, currency, { whole: true })}/yr (${diff >= 0 ? '+' : '−'}${money(Math.abs(diff), currency, { whole: true })})`
        : undefined;
    return {
      icon: direction === 'up' ? ':arrow_up:' : ':arrow_down:',
      title: join(' → ', [before.plan, now.plan]) ? `${label}: ${join(' → ', [before.plan ?? 'previous plan', now.plan])!.plain}` : label,
      headline: join('', [label, change && t`: ${change}`, forWho(d)])!,
      brief: join('', [change, forWho(d)]),
      fields: [
        ['Plan', planText(now, currency)],
        ['Previous plan', planText(before, currency)],
        ['Per year', perYear],
      ],
      notes: billingNotes(d, d.s('subscription')),
    };
  };
}

function trialEnding(_e: Envelope, d: Facts): Draft {
  const plan = planText(current(d), d.s('currency'));
  const ends = when(d.at('trialEnd') ?? d.at('trialEndsAt'));
  return {
    icon: ':hourglass_flowing_sand:',
    title: d.s('plan') ? `Trial ending: ${d.s('plan')}` : 'Trial ending',
    headline: join('', [ends ? t`Trial ends ${ends}` : 'Trial ends soon', plan && t`: ${plan}`, forWho(d)])!,
    notes: billingNotes(d, d.s('subscription')),
  };
}

const PAUSE_BEHAVIORS: Record<string, string> = { keep_as_draft: 'invoices kept as drafts', mark_uncollectible: 'invoices marked uncollectible', void: 'invoices voided' };

/** For a pause: until when and what happens to invoices meanwhile; for another verb, the new status. */
function pauseText(d: Facts, verb: string): Text | undefined {
  if (verb === 'resumed') return undefined;
  if (verb !== 'paused') return status(d) && t`now ${status(d)}`;
  return join(', ', [t`until ${when(d.at('resumesAt'))}`, PAUSE_BEHAVIORS[d.s('pauseBehavior') ?? '']]);
}

const dash = (x: Text | undefined) => (x ? t` — ${x}` : undefined);

/** subscription.paused, .resumed and others: the verb, the plan, the customer. */
function subscriptionOther(e: Envelope, d: Facts): Draft {
  const verb = words(e.type.split('.').at(-1)) ?? 'changed';
  const plan = planText(current(d), d.s('currency'));
  const icon = verb === 'paused' ? ':double_vertical_bar:' : verb === 'resumed' ? ':arrow_forward:' : ':repeat:';
  return {
    icon,
    title: d.s('plan') ? `Subscription ${verb}: ${d.s('plan')}` : `Subscription ${verb}`,
    headline: join('', [`Subscription ${verb}`, plan && t`: ${plan}`, forWho(d), dash(pauseText(d, verb))])!,
    notes: billingNotes(d, d.s('subscription')),
  };
}

export const PLANS: TemplateTable = {
  'subscription.created': subscriptionCreated,
  'subscription.canceled': subscriptionCanceled,
  'subscription.upgraded': planChange('up'),
  'subscription.downgraded': planChange('down'),
  'subscription.*': subscriptionOther,
  'trial.ending': trialEnding,
};
