/**
 * Alerts on the dashboard, in a real browser (Debian's Chromium through playwright-core)
 * against a real broker with tokens required: a rule fires, its webhook (a real HTTP
 * receiver on loopback) gets the call, the page shows the rule firing, the event and its
 * delivery, and the overview marks the queue; a worker resolves it. Every wait is for a state.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Spool } from '../src/engine/spool.ts';
import type { AlertWebhookBody } from '../src/alerts/webhook.ts';
import { waitFor } from '../src/store/conformance/worker.ts';
import { webhookReceiver } from '../src/store/conformance/webhook-receiver.ts';
import { DashboardHarness, WAIT_MS, waitText } from './support/dashboard.ts';

const harness = new DashboardHarness();
const { http, remoteWorker, signIn } = harness;
let spool: Spool;
let admin: string;
let view: string;
let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
const calls = (): AlertWebhookBody[] => receiver.calls.map((c) => c.body);

before(async () => {
  ({ spool, admin, view } = await harness.start());
  receiver = await webhookReceiver();
});

after(async () => {
  await harness.close();
  await receiver.close();
});

describe('dashboard: alerts (real broker, real Chromium, a real webhook receiver)', () => {
  it('a rule that fires shows on the overview and the Alerts view with its event and delivery, and resolves when a worker comes', async () => {
    const webhook = receiver.url;
    assert.equal((await http('POST', '/v1/queues/mail/jobs', admin, { payload: { to: 'a@example.com' } })).status, 201);
    const set = await http('PUT', '/v1/alerts/mail-unconsumed', admin, { queue: 'mail', kind: 'noWorkers', webhook });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    // A view token may see the rules but not set them.
    assert.equal((await http('PUT', '/v1/alerts/other', view, { queue: 'mail', kind: 'noWorkers', webhook })).status, 403);

    const { page, errors } = await signIn(view);
    await waitText(page, 'tr[data-queue="mail"] th a.badge.alert-firing', '⚠ mail-unconsumed');
    await waitText(page, 'nav a[href="#/alerts"] .badge', '1');
    await page.getByRole('link', { name: /^Alerts/ }).click();
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    await waitText(page, 'tr[data-alert="mail-unconsumed"] [data-state]', 'firing');
    await waitText(page, 'table[data-table="alert-rules"] caption', 'Rules: 1, 1 firing');
    await waitText(page, 'table[data-table="alert-events"] tbody tr:first-child [data-event-kind]', 'firing');
    await waitText(page, 'table[data-table="alert-events"] tbody tr:first-child [data-delivery]', /^delivered /);
    assert.deepEqual(calls().map((c) => [c.event, c.rule.id]), [['firing', 'mail-unconsumed']]);

    await remoteWorker('mail', 'mailer', async () => ({ sent: true }));
    await waitText(page, 'tr[data-alert="mail-unconsumed"] [data-state]', 'ok');
    await waitText(page, 'table[data-table="alert-events"] tbody tr:first-child [data-event-kind]', 'resolved');
    await waitText(page, 'table[data-table="alert-events"] tbody tr:first-child [data-delivery]', /^delivered /);
    await waitFor(() => calls().length === 2, WAIT_MS, 'the resolution webhook call');
    assert.deepEqual(calls().map((c) => c.event), ['firing', 'resolved']);
    assert.equal(await page.locator('nav a[href="#/alerts"] .badge').count(), 0, 'nothing fires any more');
    assert.equal((await spool.alerts())[0]!.state, 'ok');
    assert.deepEqual(errors, []);
  });
});
