import { describe, expect, it } from 'vitest';
import { Router } from '../../slack/router.js';
import { toEnvelope, type EventInput } from '../../shared/envelope.js';
import { ConfigError, parseConfig } from '../../shared/config/load.js';

function router(slack: Record<string, unknown>): Router {
  return new Router(parseConfig({ slack }).slack);
}

const event = (input: Partial<EventInput> & { type: string }, source = 'app') => toEnvelope(input as EventInput, { source });

function targets(r: Router, e: ReturnType<typeof event>): string[] {
  return r.route(e).targets.map((t) => t.key);
}

// The routing table of a real team: importance first, then product areas, then people.
const TEAM = {
  defaultChannel: '#bellhop',
  routes: [
    { match: { severity: 'critical' }, channel: '#critical-server-errors' },
    { match: { type: 'user.login' }, drop: true },
    { match: { type: 'user.*' }, channel: '#user-behavior' },
    { match: { type: ['payment.*', 'subscription.*'] }, channel: '#financials' },
    { match: { source: 'gitlab*' }, channel: '#proj-{project}' },
    { match: { type: 'notification.sent' }, dm: '{data.user_email}' },
    { match: { type: 'deploy.*' }, channel: '#firehose', continue: true },
    { match: { type: 'deploy.failed' }, channel: '#oncall' },
  ],
};

describe('the routing table', () => {
  it('sends each event to the first rule that matches, in order', () => {
    const r = router(TEAM);
    expect(targets(r, event({ type: 'user.signup' }))).toEqual(['channel:#user-behavior']);
    expect(targets(r, event({ type: 'payment.failed', severity: 'error' }))).toEqual(['channel:#financials']);
    // A critical signup goes to the critical channel: that rule comes first.
    expect(targets(r, event({ type: 'user.signup', severity: 'critical' }))).toEqual(['channel:#critical-server-errors']);
  });

  it('fills a channel template so one rule serves every project, in Slack channel-name form', () => {
    const r = router(TEAM);
    expect(targets(r, event({ type: 'pr.opened', project: 'web-shop' }, 'gitlab'))).toEqual(['channel:#proj-web-shop']);
    expect(targets(r, event({ type: 'ci.failed', project: 'Platform/Billing API' }, 'gitlab.example.com'))).toEqual(['channel:#proj-platform-billing-api']);
  });

  it('skips a rule whose template cannot be filled and falls through to the default route', () => {
    const r = router(TEAM);
    const decision = r.route(event({ type: 'pr.opened' }, 'gitlab'));
    expect(decision.targets.map((t) => [t.key, t.rule])).toEqual([['channel:#bellhop', -1]]);
  });

  it('sends a direct message to the email in the event', () => {
    const r = router(TEAM);
    expect(targets(r, event({ type: 'notification.sent', data: { user_email: 'Dana@Example.com' } }))).toEqual(['dm:dana@example.com']);
    // No usable email: not a DM, so the default route takes it.
    expect(targets(r, event({ type: 'notification.sent', data: { user_email: 'not an email' } }))).toEqual(['channel:#bellhop']);
  });

  it('drops what a drop rule matches and says why', () => {
    const decision = router(TEAM).route(event({ type: 'user.login' }));
    expect(decision.targets).toEqual([]);
    expect(decision.dropped).toBe('dropped by slack.routes.1');
  });

  it('fans out with continue: true, once per channel', () => {
    const r = router(TEAM);
    expect(targets(r, event({ type: 'deploy.failed' }))).toEqual(['channel:#firehose', 'channel:#oncall']);
    // Only the continue rule matches: that is where it goes, not also the default channel.
    expect(targets(r, event({ type: 'deploy.succeeded' }))).toEqual(['channel:#firehose']);
    const twice = router({ routes: [{ match: {}, channel: '#a', continue: true }, { match: { type: 'user.*' }, channel: '#a' }] });
    expect(targets(twice, event({ type: 'user.signup' }))).toEqual(['channel:#a']);
  });

  it('matches data fields by dotted path, with globs and lists', () => {
    const r = router({
      routes: [
        { match: { type: 'payment.succeeded', data: { 'customer.plan': ['enterprise', 'pro*'] } }, channel: '#big-deals' },
        { match: { data: { amount: 0 } }, drop: true },
        { match: { data: { trial: true } }, channel: '#trials' },
      ],
      defaultChannel: '#rest',
    });
    expect(targets(r, event({ type: 'payment.succeeded', data: { customer: { plan: 'pro-annual' } } }))).toEqual(['channel:#big-deals']);
    expect(targets(r, event({ type: 'payment.succeeded', data: { customer: { plan: 'basic' } } }))).toEqual(['channel:#rest']);
    expect(r.route(event({ type: 'payment.succeeded', data: { amount: 0 } })).targets).toEqual([]);
    expect(targets(r, event({ type: 'trial.ending', data: { trial: true } }))).toEqual(['channel:#trials']);
    expect(targets(r, event({ type: 'trial.ending', data: { trial: 'true' } }))).toEqual(['channel:#rest']);
  });

  it('matches on project globs only for events that have a project', () => {
    const r = router({ routes: [{ match: { project: 'shop-*' }, channel: '#shop' }] });
    expect(targets(r, event({ type: 'pr.merged', project: 'shop-frontend' }))).toEqual(['channel:#shop']);
    const none = r.route(event({ type: 'pr.merged' }));
    expect(none.targets).toEqual([]);
    expect(none.dropped).toMatch(/no route matched/);
  });

  it('refuses a rule without exactly one of channel, dm or drop, or with an unknown placeholder', () => {
    expect(() => router({ routes: [{ match: {} }] })).toThrow(ConfigError);
    expect(() => router({ routes: [{ match: {}, channel: '#a', dm: 'x@example.com' }] })).toThrow('slack.routes.0: give exactly one of channel, dm or drop: true');
    expect(() => router({ routes: [{ match: {}, channel: '#a' }, { match: {}, channel: '#proj-{projekt}' }] })).toThrow(/slack\.routes\.1: unknown placeholder \{projekt\}/);
  });

  it('keeps channel names within Slack\'s 80 characters', () => {
    const r = router({ routes: [{ match: {}, channel: '#proj-{project}' }] });
    const [key] = targets(r, event({ type: 'pr.opened', project: 'x'.repeat(200) }));
    expect(key!.length).toBe('channel:#'.length + 80);
  });
});
