// Every provider payload in test/fixtures/sources, through its real adapter and the
// renderer: the Block Kit is snapshotted (review a change of wording in the snapshot
// diff), every message fits Slack's limits, and the first line alone tells who, what,
// and how much or where.
import { describe, expect, it } from 'vitest';
import { renderEvent, renderReply } from '../../../slack/render.js';
import { fixtureEvents } from './fixture-events.js';
import { slackProblems } from './limits.js';

const all = fixtureEvents();
const mapped = all.filter((f) => f.event);

/**
 * What the first line (the notification text) must say, per fixture: who, what, and how
 * much or where. A fixture the adapters map but this table misses fails the last test,
 * so a new fixture gets its line checked too.
 */
const FIRST_LINES: Record<string, string[]> = {
  'activecollab/TaskCompleted.json': ['Task #33', '‘Send the invoice to ACME’', 'completed', 'in Website'],
  'activecollab/TaskCreated.json': ['Task #33', '‘Send the invoice to ACME’', 'created', 'in Website'],
  'activecollab/TaskReopened.json': ['Task #33', 'reopened', 'in Website'],
  'airbrake/notice-js-warning.json': ['TypeError', "Cannot read properties of undefined (reading 'total')", 'shop'],
  'airbrake/notice.json': ['ActiveRecord::RecordNotFound', "Couldn't find Order with 'id'=4521", 'shop', '/orders/:id'],
  'calls/generic-form.txt': ['Incoming call', 'Erika Mustermann', '+4930123456', 'on +4930999000'],
  'calls/voipzeker-outgoing.query': ['Outgoing call', 'to +31201234567', 'from 204'],
  'calls/voys-created.json': ['Incoming call', 'Johan | Voys', '+31507009920', 'on +31332022074'],
  'coder/user-account-created.json': ['New account', 'Ana Li (ana)', 'created by danny'],
  'coder/workspace-build-failed.json': ['Workspace "dev" manual build failed', 'Sam Rivera (sam@example.com)'],
  'coder/workspace-deleted.json': ['Workspace "my-workspace" deleted', 'Danny (danny@example.com)'],
  'github/pull_request.closed.merged.json': ['hubot merged', 'PR #1347', '‘Add signup notifications’', 'by monalisa', 'octo-org/hello-world', 'signup-bell → main'],
  'github/pull_request.closed.unmerged.json': ['monalisa closed', 'PR #1350', 'without merging', 'octo-org/hello-world'],
  'github/pull_request.opened.json': ['monalisa opened', 'PR #1347', '‘Add signup notifications’', 'octo-org/hello-world'],
  'github/release.published.json': ['monalisa published', 'v2.4.0', 'octo-org/hello-world'],
  'github/workflow_run.completed.failure.json': ['CI failed', 'octo-org/hello-world signup-bell', 'run #813', 'by monalisa', 'pull request'],
  'github/workflow_run.completed.success.json': ['CI passed', 'octo-org/hello-world main', 'run #812', 'by hubot', 'push'],
  'gitlab/merge_request.close.json': ['root closed', 'MR !42', '‘Ring the bell on checkout’', 'acme/shop/storefront'],
  'gitlab/merge_request.merge.json': ['root merged', 'MR !42', 'acme/shop/storefront', 'feature/checkout-bell → main'],
  'gitlab/merge_request.open.json': ['root opened', 'MR !42', 'acme/shop/storefront'],
  'gitlab/pipeline.failed.jobs.json': ['CI failed', 'acme/shop/storefront main', 'pipeline #33', 'by jdoe', 'rspec (test) failed'],
  'gitlab/pipeline.failed.json': ['CI failed', 'acme/shop/storefront feature/checkout-bell', 'pipeline #32', 'by root'],
  'gitlab/pipeline.success.json': ['CI passed', 'acme/shop/storefront main', 'pipeline #31', 'by root'],
  'stripe/charge.dispute.created.json': ['Payment disputed', '$49.00', 'fraudulent', 'evidence due Thu 14 Nov 2024'],
  'stripe/charge.refunded.json': ['Refund', '$15.00', 'Sam Ortiz (sam.ortiz@example.com)', 'partial refund of $49.00'],
  'stripe/checkout.session.completed.json': ['Checkout completed', '$29.00', 'Lea Nguyen (lea.nguyen@example.com)'],
  'stripe/customer.created.json': ['New customer', 'Ada Lovelace (ada@example.com)'],
  'stripe/customer.subscription.created.json': ['New subscription', 'Starter €49/mo', 'cus_QhrW9a1b2c3d4e'],
  'stripe/customer.subscription.deleted.json': ['Subscription canceled', 'Starter €49/mo', 'cus_QhrW9a1b2c3d4e', 'cancellation requested'],
  'stripe/customer.subscription.paused.json': ['Subscription paused', 'Starter €49/mo', 'cus_QhrW9a1b2c3d4e'],
  'stripe/customer.subscription.resumed.json': ['Subscription resumed', 'Starter €49/mo', 'cus_QhrW9a1b2c3d4e'],
  'stripe/customer.subscription.trial_will_end.json': ['Trial ends', 'Sat 31 Aug 2024', 'Starter €49/mo', 'cus_QhrW9a1b2c3d4e'],
  'stripe/customer.subscription.updated.cancel_at_period_end.json': ['Subscription set to cancel', 'Mon 23 Sep 2024', 'Starter €49/mo', 'cus_QhrW9a1b2c3d4e'],
  'stripe/customer.subscription.updated.downgrade.json': ['Downgrade', 'Pro €199/mo → Starter (yearly) €490/yr', 'cus_QhrW9a1b2c3d4e'],
  'stripe/customer.subscription.updated.pause_collection.json': ['Subscription paused', 'Starter €49/mo', 'cus_QhrW9a1b2c3d4e', 'until Sun 1 Dec 2024'],
  'stripe/customer.subscription.updated.upgrade.json': ['Upgrade', 'Starter €49/mo → Pro €199/mo', 'cus_QhrW9a1b2c3d4e'],
  'stripe/invoice.paid.json': ['Payment received', '$29.00', 'Ana Li (ana.li@example.com)', 'invoice INV-0042'],
  'stripe/invoice.payment_failed.json': ['Payment failed', '$29.00', 'Ana Li (ana.li@example.com)', 'invoice INV-0042', 'attempt 1', 'next retry Sun 3 Nov 2024'],
  'stripe/payment_intent.payment_failed.one-off.json': ['Payment failed', '€129.00', 'omar@example.com', 'Order #1103'],
  'stripe/payment_intent.succeeded.one-off.json': ['Payment received', '€129.00', 'omar@example.com', 'Order #1102'],
};

describe('messages for the provider fixtures', () => {
  it('maps some of every provider', () => {
    const providers = new Set(all.map((f) => f.name.split('/')[0]));
    const withEvents = new Set(mapped.map((f) => f.name.split('/')[0]));
    expect([...providers].filter((p) => !withEvents.has(p))).toEqual([]);
  });

  for (const { name, event } of mapped) {
    it(`${name}: the Block Kit message`, () => {
      const message = renderEvent({ event: event!, rangs: [] });
      expect(slackProblems(message)).toEqual([]);
      expect(message).toMatchSnapshot();
    });

    it(`${name}: the first line says who, what, and how much or where`, () => {
      const expected = FIRST_LINES[name];
      expect(expected, `add ${name} to FIRST_LINES`).toBeDefined();
      const { text } = renderEvent({ event: event!, rangs: [] });
      for (const part of expected!) expect(text).toContain(part);
      // Never the type's catalogue description, never JSON.
      expect(text).not.toMatch(/[{[]"/);
      expect(text).not.toMatch(/\bA (notification|CI pipeline|subscription moved)\b/);
    });

    it(`${name}: a ring and a repeat keep within the limits too`, () => {
      const rangs = Array.from({ length: 12 }, (_, i) => ({ deviceId: `bell-${i}`, at: event!.time, strikes: 1 }));
      const posted = renderEvent({ event: event!, rangs, repeats: { count: 3, lastAt: event!.time } });
      expect(slackProblems(posted)).toEqual([]);
      expect(posted.text).toContain('rang bell-0');
      expect(slackProblems(renderReply({ event: event!, rangs }, 3))).toEqual([]);
    });
  }
});
