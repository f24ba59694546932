import { describe, expect, it } from 'vitest';
import { minorDigits, money, per, price, yearly } from '../../../slack/messages/money.js';
import { duration, when } from '../../../slack/messages/when.js';
import { humanize, readable } from '../../../slack/messages/values.js';

describe('amounts in the currency\'s units', () => {
  it('divides two-decimal currencies by 100 and shows the symbol', () => {
    expect(money(2900, 'usd')).toBe('$29.00');
    expect(money(19900, 'eur')).toBe('€199.00');
    expect(money(123456, 'GBP')).toBe('£1,234.56');
  });

  it('does not divide zero-decimal currencies (JPY, KRW and the rest of Stripe\'s list)', () => {
    expect(money(5000, 'jpy')).toBe('¥5,000');
    expect(money(15000, 'krw')).toBe('₩15,000');
    expect(minorDigits('vnd')).toBe(0);
    expect(minorDigits('clp')).toBe(0);
  });

  it('follows Stripe where it differs from ISO: ISK is two-decimal in the API, KWD three', () => {
    expect(minorDigits('isk')).toBe(2);
    expect(money(500000, 'isk')).toBe('ISK\u00a05,000');
    expect(money(12340, 'kwd')).toBe('KWD\u00a012.340');
  });

  it('drops the cents of a round price, never of a payment', () => {
    expect(money(4900, 'eur', { whole: true })).toBe('€49');
    expect(money(4950, 'eur', { whole: true })).toBe('€49.50');
    expect(price(1200, 'usd', 'month')).toBe('$12/mo');
    expect(price(49000, 'eur', 'year')).toBe('€490/yr');
    expect(price(3000, 'usd', 'month', 3)).toBe('$30/3 mo');
    expect(per('week')).toBe('/wk');
  });

  it('shows an amount without a currency as given, and an unknown code after the number', () => {
    expect(money(4900, undefined)).toBe('4,900');
    expect(money(4900, 'xyz1')).toBe('4,900 XYZ1');
    expect(money(undefined, 'eur')).toBeUndefined();
  });

  it('compares plans per year', () => {
    expect(yearly(4900, 'month')).toBe(58800);
    expect(yearly(4900, 'month', 3)).toBe(19600);
    expect(yearly(4900, 'fortnight')).toBeUndefined();
  });
});

describe('times and values people read', () => {
  it('writes times as Slack date tokens with a UTC fallback', () => {
    expect(when('2025-05-30T09:00:00Z')).toEqual({
      md: '<!date^1748595600^{date_short_pretty} {time}|Fri 30 May 2025, 09:00 UTC>',
      plain: 'Fri 30 May 2025, 09:00 UTC',
    });
    // Providers send epoch seconds too.
    expect(when(1748595600)?.plain).toBe('Fri 30 May 2025, 09:00 UTC');
    expect(when('not a date')).toBeUndefined();
  });

  it('says durations in minutes and hours', () => {
    expect(duration(385)).toBe('6m 25s');
    expect(duration(42)).toBe('42s');
    expect(duration(4000)).toBe('1h 6m');
  });

  it('turns lists and flat objects into words, and leaves deeper structures out', () => {
    expect(readable(['a', 'b'])).toBe('a, b');
    expect(readable([{ name: 'rspec', stage: 'test' }, { name: 'lint' }])).toBe('rspec, lint');
    expect(readable({ name: 'dev', template_name: 'docker' })).toBe('name: dev, template name: docker');
    expect(readable({ nested: { deep: 1 } })).toBeUndefined();
    expect(readable(true)).toBe('yes');
    expect(humanize('previousPlan')).toBe('Previous plan');
    expect(humanize('customer.user_email')).toBe('User email');
  });
});
