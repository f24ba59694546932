// Amounts as people say them: in the currency's own units, with its symbol. Amounts
// arrive in minor units (Stripe's convention, cents for EUR), so the divisor depends on
// the currency: Intl knows each currency's decimals, and Stripe's API differs from ISO
// for a few (ISK, HUF and TWD are two-decimal there; its zero-decimal list is below).

// https://docs.stripe.com/currencies#zero-decimal
const ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
// Two-decimal in Stripe's API although ISO or Intl say fewer.
const TWO_DECIMAL = new Set(['ISK', 'HUF', 'TWD']);

const LOCALE = 'en-US';

/** Decimal places of the minor unit amounts are given in; undefined for an unknown code. */
export function minorDigits(currency: string): number | undefined {
  const code = currency.toUpperCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (TWO_DECIMAL.has(code)) return 2;
  try {
    return new Intl.NumberFormat(LOCALE, { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return undefined;
  }
}

/**
 * 4900 eur -> "€49.00", 5000 jpy -> "¥5,000". With `whole`, a round amount loses its
 * cents ("€49"), as prices are written. Without a currency the number is shown as given.
 */
export function money(amount: number | undefined, currency: string | undefined, opts: { whole?: boolean } = {}): string | undefined {
  if (amount === undefined || !Number.isFinite(amount)) return undefined;
  if (!currency) return amount.toLocaleString(LOCALE);
  const digits = minorDigits(currency);
  if (digits === undefined) return `${amount.toLocaleString(LOCALE)} ${currency.toUpperCase()}`;
  const value = amount / 10 ** digits;
  const format = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: currency.toUpperCase() });
  const shown = format.resolvedOptions().maximumFractionDigits ?? digits;
  const round = opts.whole && Number.isInteger(value);
  return new Intl.NumberFormat(LOCALE, {
    style: 'currency',
    currency: currency.toUpperCase(),
    minimumFractionDigits: round ? 0 : shown,
    maximumFractionDigits: round ? 0 : shown,
  }).format(value);
}

const SHORT: Record<string, string> = { day: 'day', week: 'wk', month: 'mo', year: 'yr' };

/** "month" -> "/mo", ("month", 3) -> "/3 mo"; unknown intervals as written. */
export function per(interval: string | undefined, count?: number): string {
  if (!interval) return '';
  const unit = SHORT[interval] ?? interval;
  return count && count > 1 ? `/${count} ${unit}` : `/${unit}`;
}

/** A recurring price: "€199/mo". */
export function price(amount: number | undefined, currency: string | undefined, interval?: string, count?: number): string | undefined {
  const m = money(amount, currency, { whole: true });
  return m && `${m}${per(interval, count)}`;
}

const PER_YEAR: Record<string, number> = { day: 365, week: 52, month: 12, year: 1 };

/** An amount per interval as a yearly amount, to compare plans of different intervals. */
export function yearly(amount: number | undefined, interval: string | undefined, count = 1): number | undefined {
  if (amount === undefined || !interval || !(interval in PER_YEAR) || count <= 0) return undefined;
  return Math.round((amount * PER_YEAR[interval]!) / count);
}
