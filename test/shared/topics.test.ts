import { describe, expect, it } from 'vitest';
import { Topics, filterCovered, topicMatches } from '../../shared/topics.js';
import { makeTypeFilter } from '../../shared/event-types.js';

describe('topic scheme', () => {
  const t = new Topics('bellhop');

  it('puts events under their type with dots as slashes, so type prefixes work as wildcards', () => {
    expect(t.event('user.signup')).toBe('bellhop/events/user/signup');
    expect(t.events('user')).toBe('bellhop/events/user/#');
    expect(topicMatches(t.events('user'), t.event('user.signup'))).toBe(true);
    expect(topicMatches(t.events('user'), t.event('payment.failed'))).toBe(false);
  });

  it('reads topics back into what they mean', () => {
    expect(t.parse('bellhop/events/error/raised')).toEqual({ kind: 'event', type: 'error.raised' });
    expect(t.parse('bellhop/devices/office-bell/rang')).toEqual({ kind: 'device', deviceId: 'office-bell', channel: 'rang' });
    expect(t.parse('other/events/user/signup')).toBeUndefined();
    expect(t.parse('bellhop/slack/delivered')).toEqual({ kind: 'slack-delivered' });
    expect(t.parse('bellhop/slack/other')).toBeUndefined();
    expect(t.parse('bellhop/devices/office-bell/unknown')).toBeUndefined();
  });

  it('decides whether a subscription stays within what a grant allows', () => {
    expect(filterCovered('bellhop/devices/pi-1/+', 'bellhop/devices/pi-1/ding')).toBe(true);
    expect(filterCovered('bellhop/devices/pi-1/+', 'bellhop/devices/+/ding')).toBe(false);
    expect(filterCovered('bellhop/devices/pi-1/+', 'bellhop/devices/#')).toBe(false);
    expect(filterCovered('bellhop/events/#', 'bellhop/events/user/+')).toBe(true);
    expect(filterCovered('bellhop/events/#', 'bellhop/#')).toBe(false);
  });

  it('accepts catalogue types and configured globs, nothing else', () => {
    const accepts = makeTypeFilter(['deploy.*', 'acme.**']);
    expect(accepts('user.signup')).toBe(true);
    expect(accepts('deploy.rollback')).toBe(true);
    expect(accepts('acme.billing.invoice.paid')).toBe(true);
    expect(accepts('user.sigup')).toBe(false);
    expect(accepts('deploy.rollback.partial')).toBe(false);
  });
});
