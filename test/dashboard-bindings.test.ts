/**
 * Topic bindings on the dashboard, in a real browser (Debian's Chromium through playwright-core)
 * against a real broker with tokens required: an admin binds and unbinds and sets the unrouted
 * queue, and publishes follow; a view token sees the bindings but may not change them. Every
 * wait is for a state of the page or the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Spool } from '../src/engine/spool.ts';
import { waitFor } from '../src/store/conformance/worker.ts';
import { DashboardHarness, WAIT_MS, waitText } from './support/dashboard.ts';

const harness = new DashboardHarness();
const { http, signIn } = harness;
let spool: Spool;
let admin: string;
let view: string;

before(async () => {
  ({ spool, admin, view } = await harness.start());
});

after(() => harness.close());

describe('dashboard: bindings (real broker, real Chromium)', () => {
  it('an admin binds, sets the unrouted queue and unbinds; publishes follow; a bad pattern is said and changes nothing', async () => {
    await spool.bind('orders.#', 'audit');
    const { page, errors } = await signIn(admin);
    await page.getByRole('link', { name: 'Bindings' }).click();
    await page.getByRole('heading', { name: 'Bindings', level: 1 }).waitFor();
    await waitText(page, 'table[data-table="bindings"] caption', '1 binding');

    await page.getByLabel('Pattern', { exact: true }).fill('orders.*.created');
    await page.getByLabel('Queue', { exact: true }).fill('billing');
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await waitText(page, 'table[data-table="bindings"] caption', '2 bindings');
    await waitText(page, 'tr[data-binding="orders.*.created billing"] td a', 'billing');
    const out = await http('POST', '/v1/topics/orders.eu.created/messages', admin, { payload: { order: 1 } });
    assert.deepEqual(out.json.jobs.map((j: { queue: string }) => j.queue), ['audit', 'billing']);

    await page.getByLabel('Pattern', { exact: true }).fill('orders.#x');
    await page.getByLabel('Queue', { exact: true }).fill('billing');
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await waitText(page, '[role="alert"]', /INVALID_ARGUMENT: pattern "orders\.#x" is not valid/);
    assert.equal((await spool.bindings()).bindings.length, 2);

    await page.getByLabel('Unrouted queue', { exact: true }).fill('lost');
    await page.getByRole('button', { name: 'Set' }).click();
    await waitFor(async () => (await spool.bindings()).unroutedQueue === 'lost', WAIT_MS, 'the unrouted queue to be set');
    await http('POST', '/v1/topics/nobody.listens/messages', admin, { payload: 2 });
    await page.reload();
    await waitText(page, 'p[data-unrouted]', /matched no binding: 1; they go to lost\./);

    await page.getByRole('button', { name: 'Unbind orders.# from audit' }).click();
    await waitText(page, 'table[data-table="bindings"] caption', '1 binding');
    assert.deepEqual((await spool.bindings()).bindings.map((b) => [b.pattern, b.queue]), [['orders.*.created', 'billing']]);
    assert.deepEqual((await spool.publish('orders.eu.created', 3)).jobs.map((j) => j.queue), ['billing']);
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), [], 'only the refused bind failed');
  });

  it('a view token sees the bindings, and the forms and buttons are disabled with the reason', async () => {
    const { page, errors } = await signIn(view);
    await page.goto(page.url().replace(/#.*$/, '') + '#/bindings');
    await page.getByRole('heading', { name: 'Bindings', level: 1 }).waitFor();
    await waitText(page, 'table[data-table="bindings"] caption', '1 binding');
    assert.equal(await page.getByRole('button', { name: 'Bind', exact: true }).isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Unbind orders.*.created from billing' }).isDisabled(), true);
    assert.ok((await page.getByText(/Read only: this token \(view\)/).count()) > 0);
    assert.equal((await http('POST', '/v1/bindings', view, { pattern: 'x', queue: 'y' })).status, 403);
    assert.deepEqual(errors, []);
  });
});
