// The built-in messages of the other families, with the fields the adapters carry now and
// the ones they add (GitLab's failed jobs, Active Collab's people by name).
import { describe, expect, it } from 'vitest';
import { buttons, context, fields, header, render, section } from './helpers.js';

describe('CI and deploys', () => {
  it('a failed GitLab pipeline names the failed jobs and links the first ones', () => {
    const m = render(
      {
        type: 'ci.failed',
        severity: 'error',
        project: 'shop/web',
        subject: 'main',
        data: {
          project: 'shop/web',
          user: 'jdoe',
          pipeline: 204,
          status: 'failed',
          ref: 'main',
          trigger: 'push',
          commit: 'bcbb5ec396a2c0f828686f14fac9b80b780504f2',
          commitTitle: 'Fix the cart',
          failedJobs: [
            { id: 1, name: 'rspec', stage: 'test', url: 'https://gitlab.example.com/shop/web/-/jobs/1' },
            { id: 2, name: 'lint', stage: 'test', url: 'https://gitlab.example.com/shop/web/-/jobs/2' },
            { id: 3, name: 'e2e', stage: 'test', url: 'https://gitlab.example.com/shop/web/-/jobs/3' },
          ],
          failedJobCount: 12,
          links: [{ label: 'View pipeline', url: 'https://gitlab.example.com/shop/web/-/pipelines/204' }],
        },
      },
      { source: 'gitlab' },
    );
    expect(m.text).toBe(':red_circle: CI failed on shop/web main — pipeline #204 by jdoe (push): rspec (test), lint (test), e2e (test) and 9 more failed');
    expect(header(m)).toBe(':red_circle: CI failed on shop/web main');
    expect(fields(m).Commit).toBe('bcbb5ec3 ‘Fix the cart’');
    expect(buttons(m).map((b) => b.label)).toEqual(['Job rspec', 'Job lint', 'View pipeline']);
  });

  it('a GitHub run that timed out says so', () => {
    const m = render({ type: 'ci.failed', project: 'octo/app', data: { repository: 'octo/app', workflow: 'CI', conclusion: 'timed_out', branch: 'main', runNumber: 9, actor: 'mona', trigger: 'schedule' } }, { source: 'github' });
    expect(m.text).toContain('CI timed out on octo/app main — CI run #9 by mona (schedule)');
  });

  it('a deploy says what went where', () => {
    expect(render({ type: 'deploy.failed', severity: 'error', data: { service: 'api', version: 'v1.4.2', environment: 'production', user: 'ana', message: 'health check failed' } }).text).toBe(
      ':red_circle: Deploy failed: api v1.4.2 to production by ana — health check failed',
    );
    expect(render({ type: 'deploy.succeeded', data: { service: 'api', environment: 'staging' } }).text).toBe(':large_blue_circle: Deployed api to staging');
  });
});

describe('tasks', () => {
  it('names who did it when the payload names people', () => {
    const m = render(
      { type: 'task.completed', project: 'Website', subject: 'Fix login redirect', data: { taskId: 870, taskNumber: 87, name: 'Fix login redirect', completedById: 5, completedByName: 'Sam Ortiz', completedByEmail: 'sam@example.com', assigneeName: 'Sam Ortiz', dueOn: '2025-06-02T00:00:00.000Z' } },
      { source: 'activecollab' },
    );
    expect(m.text).toBe(':large_blue_circle: Sam Ortiz (sam@example.com) completed task #87 ‘Fix login redirect’ in Website');
    expect(fields(m).Assignee).toBe('Sam Ortiz');
    expect(context(m)).not.toContain('completed by user');
  });

  it('reads Active Collab\'s own snake_case names too', () => {
    const m = render({ type: 'task.created', project: 'Website', data: { taskNumber: 3, name: 'Call ACME', created_by_name: 'Ana Li', createdById: 9 } }, { source: 'activecollab' });
    expect(m.text).toBe(':large_blue_circle: Ana Li created task #3 ‘Call ACME’ in Website');
  });

  it('keeps bare ids out of the sentence', () => {
    const m = render({ type: 'task.completed', project: 'Website', data: { taskNumber: 3, name: 'Call ACME', completedById: 18 } }, { source: 'activecollab' });
    expect(m.text).toBe(':large_blue_circle: Task #3 ‘Call ACME’ completed in Website');
    expect(context(m)).toContain('completed by user 18');
  });
});

describe('Coder', () => {
  it('shows the body once, labels as named fields, never as JSON', () => {
    const m = render(
      {
        type: 'notification.sent',
        severity: 'error',
        subject: 'sam@example.com',
        data: { title: 'Workspace "dev" manual build failed', body: 'Hi Sam,\n\nThe build failed.', bodyMarkdown: 'Hi Sam,\n\nThe build **failed**.', notification: 'Workspace Manual Build Failed', user_email: 'sam@example.com', userName: 'Sam Rivera', labels: { name: 'dev', template_name: 'docker', workspace_build_number: '14', secret_thing: 'x' } },
      },
      { source: 'coder' },
    );
    expect(m.text).toBe(':red_circle: Workspace "dev" manual build failed — Sam Rivera (sam@example.com)');
    expect(section(m)).toBe(':x: Workspace "dev" manual build failed — Sam Rivera (sam@example.com)\nThe build *failed*.');
    expect(fields(m)).toEqual({ Workspace: 'dev', Template: 'docker', Build: '#14' });
    expect(JSON.stringify(m.blocks)).not.toContain('secret_thing');
  });

  it('a new account (Coder\'s "User account created") is about the new person, not the admin told', () => {
    const m = render(
      { type: 'user.created', subject: 'jdoe', data: { title: 'User account "jdoe" created', user_email: 'admin@example.com', userName: 'Admin', account: 'jdoe', accountName: 'Jane Doe', createdBy: 'admin' } },
      { source: 'coder' },
    );
    expect(m.text).toBe(':large_blue_circle: New account: Jane Doe (jdoe), created by admin');
  });
});

describe('errors, calls and everything else', () => {
  it('an error: what and where first', () => {
    const m = render({ type: 'error.raised', severity: 'error', project: 'shop', subject: 'NoMethodError', data: { errorType: 'NoMethodError', message: 'undefined method `total`', environment: 'staging', route: 'POST /cart', hostname: 'web-1' } });
    expect(m.text).toBe(':red_circle: NoMethodError: undefined method `total` — shop (staging), POST /cart');
    expect(header(m)).toBe(':red_circle: NoMethodError in shop');
    expect(fields(m).Host).toBe('web-1');
  });

  it('a call: who is calling on which line', () => {
    expect(render({ type: 'call.incoming', subject: '+49301', data: { number: '+49301', name: 'Erika', line: '+49309', agent: 'Reception' } }).text).toBe(
      ':large_blue_circle: Incoming call from Erika (+49301) on +49309, Reception',
    );
  });

  it('a team\'s own event: title from the type, readable fields, the rest counted, no JSON', () => {
    const m = render({
      type: 'order.shipped',
      subject: 'Order 1042',
      data: { carrier: 'DHL', items: ['mug', 'shirt'], address: { city: 'Berlin', zip: '10115' }, meta: { deep: { x: 1 } }, a: 1, b: 2, c: 3, d: 4, e: 5 },
    });
    expect(m.text).toBe(':large_blue_circle: Order shipped: Order 1042');
    expect(fields(m)).toEqual({ Carrier: 'DHL', Items: 'mug, shirt', Address: 'city: Berlin, zip: 10115', A: '1', B: '2', C: '3' });
    expect(context(m)).toContain('2 more data fields in the event');
    expect(JSON.stringify(m.blocks)).not.toContain('{\\"deep');
  });

  it('sign-ups, logins and deals', () => {
    expect(render({ type: 'user.signup', data: { name: 'Ana Li', email: 'ana@example.com', plan: 'Pro' } }).text).toBe(':large_blue_circle: A new customer signed up: Ana Li (ana@example.com) on Pro');
    expect(render({ type: 'user.login', subject: 'ana@example.com' }).text).toBe(':large_blue_circle: ana@example.com logged in');
    expect(render({ type: 'deal.won', data: { amount: 1200000, currency: 'usd', company: 'ACME', owner: 'Bo' } }).text).toBe(':large_blue_circle: Deal won: $12,000.00 — ACME, by Bo');
  });
});
