// Sign-ups, logins, deals, beacons, test dings, and every type without a template of its
// own (a team's app events): a sentence from the type and the subject, and a few of the
// data values as readable fields, the rest counted in the small print.
import type { Envelope } from '../../shared/envelope.js';
import type { Draft, TemplateTable } from './spec.js';
import { clip, join, t, text, type Part } from './text.js';
import { amountOf } from './billing.js';
import { Facts, humanize, readable } from './values.js';
import { person } from './who.js';

/** Keys shown elsewhere (the headline, the buttons) or never worth a field. */
const SUMMARY_KEYS = ['message', 'summary', 'description', 'title', 'text'];
const HIDDEN = new Set([...SUMMARY_KEYS, 'links', 'fingerprint', 'origin']);
const GENERIC_FIELDS = 6;

function userOf(e: Envelope, d: Facts) {
  return person(d.s('name', 'userName', 'user.name', 'fullName'), d.s('email', 'user_email', 'userEmail', 'user.email'), d.s('userId', 'user.id', 'id')) ?? text(e.subject);
}

function signup(e: Envelope, d: Facts): Draft {
  const who = userOf(e, d);
  const plan = d.s('plan', 'planName');
  const from = d.s('company', 'companyName', 'organization');
  // Kept word for word: the first line people and scripts know ("A new customer signed up: a@example.com").
  const brief = join('', [who, from && t` from ${from}`, plan && t` on ${plan}`]);
  return {
    icon: ':wave:',
    title: 'A new customer signed up',
    headline: join(': ', ['A new customer signed up', brief])!,
    brief,
    details: [clip(d.s(...SUMMARY_KEYS), 500)],
    fields: [['Source', d.s('utm_source', 'source', 'referrer')], ['Country', d.s('country', 'user.country')]],
  };
}

/** An account someone else made (Coder's "User account created"): the new account, and who made it. */
function userCreated(e: Envelope, d: Facts): Draft {
  // In Coder's payload user_email and userName are the admin being told, not the new account.
  const name = d.s('accountName', 'name', 'fullName');
  const handle = d.s('account', 'accountEmail', 'email') ?? e.subject;
  const who = name && handle && name !== handle ? t`${name} (${handle})` : text(name ?? handle);
  const by = d.s('createdBy', 'initiator', 'by');
  return {
    icon: ':bust_in_silhouette:',
    title: who ? `New account: ${who.plain}` : 'New account',
    headline: join('', [join(': ', ['New account', who]), t`, created by ${by}`])!,
    brief: who,
  };
}

function login(e: Envelope, d: Facts): Draft {
  const who = userOf(e, d);
  return {
    icon: ':key:',
    title: who ? `${who.plain} logged in` : 'A user logged in',
    headline: join(' ', [who, 'logged in', t`from ${d.s('ip', 'location', 'country')}`])!,
    brief: who,
    details: [clip(d.s(...SUMMARY_KEYS), 500)],
  };
}

function dealWon(e: Envelope, d: Facts): Draft {
  const deal = d.s('deal', 'name', 'title', 'company') ?? e.subject;
  const amount = amountOf(d);
  const owner = d.s('owner', 'ownerName', 'user', 'by');
  return {
    icon: ':trophy:',
    title: join(': ', ['Deal won', amount])!.plain,
    headline: join('', [join(': ', ['Deal won', amount]), deal && t` — ${deal}`, owner && t`, by ${owner}`])!,
    brief: join(' — ', [amount, deal]),
    details: [clip(d.s(...SUMMARY_KEYS), 500)],
  };
}

function bellTest(e: Envelope, d: Facts): Draft {
  return { icon: ':bell:', title: 'Test ding', headline: join(' — ', ['Test ding', e.subject ?? d.s('message', 'by')])! };
}

/** What happened, from the type: "order.shipped" -> "Order shipped" (a catalogue description says what a type means, not what happened). */
export function titleOf(type: string): string {
  const words = type.split('.').map((w) => w.replace(/[_-]+/g, ' ')).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The data values worth a field, readable, in the sender's order. */
export function dataFields(d: Facts, max = GENERIC_FIELDS): { fields: Array<[string, Part]>; more: number } {
  const entries = Object.entries(d.event.data ?? {})
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => [humanize(key), readable(value)] as [string, string | undefined])
    .filter(([, v]) => v !== undefined);
  return { fields: entries.slice(0, max).map(([k, v]) => [k, clip(v, 500)]), more: Math.max(0, entries.length - max) };
}

/** Any event: its title, the subject and the data's message; a few data values as fields. */
export function generic(e: Envelope, d: Facts): Draft {
  const title = titleOf(e.type);
  const message = clip(d.s(...SUMMARY_KEYS), 500);
  const about = join(' — ', [e.subject, message]);
  const { fields, more } = dataFields(d);
  return {
    title,
    headline: join(': ', [title, about])!,
    brief: about ?? text(title),
    fields,
    notes: [more > 0 ? `${more} more data field${more === 1 ? '' : 's'} in the event` : undefined, d.s('origin')],
  };
}

function beacon(e: Envelope, d: Facts): Draft {
  const base = generic(e, d);
  return { ...base, icon: ':globe_with_meridians:', title: 'Browser event', headline: join(': ', ['Browser event', base.brief])! };
}

export const GENERIC: TemplateTable = {
  'user.signup': signup,
  'user.created': userCreated,
  'user.login': login,
  'deal.won': dealWon,
  'bell.test': bellTest,
  'beacon.received': beacon,
};
