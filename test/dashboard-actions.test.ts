/**
 * The dashboard's queue and job actions in a real browser (Debian's Chromium through
 * playwright-core) against a real broker with tokens required: adding a job, deleting a
 * queue, and the job browser across every queue with a bulk retry. The harness is in
 * test/support/dashboard.ts; every wait is for a state of the page or the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Spool } from '../src/engine/spool.ts';
import type { Broker } from '../src/server/broker.ts';
import { DashboardHarness, waitText } from './support/dashboard.ts';

/** What the functions this file runs in the page use of its DOM (the program's types are Node's, not a browser's). */
declare const document: {
  querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null;
  activeElement: { textContent: string | null; tagName: string; id: string } | null;
};

const harness = new DashboardHarness();
const { deadJobs, signIn } = harness;
let spool: Spool;
let broker: Broker;
let admin: string;

before(async () => {
  ({ spool, broker, admin } = await harness.start());
});

after(() => harness.close());

describe('dashboard: queue and job actions (real broker, real Chromium)', () => {
  it('adds a job from the queue view (a payload that is not JSON is said at the field and adds nothing), live in the job browser', async () => {
    await spool.queue('orders').addMany([{ payload: { sku: 'A-0' } }, { payload: { sku: 'A-1' } }]);
    const { page, errors } = await signIn(admin);
    // A second tab on the job browser: the new job shows up there by itself.
    const browser2 = await signIn(admin);
    await browser2.page.goto(`${broker.url}/#/jobs?queue=orders`);
    await waitText(browser2.page, 'table caption', /queue orders: page 1, 2 shown/);

    await page.goto(`${broker.url}/#/queues/orders`);
    await page.getByRole('heading', { name: 'Queue orders', level: 1 }).waitFor();
    const form = page.getByRole('form', { name: 'Add a job' });
    await form.getByLabel('Payload (JSON)').fill('{ sku: A-2 }');
    await form.getByRole('button', { name: 'Add job' }).click();
    await waitText(page, '#add-payload-error', /^Not JSON: /);
    assert.equal(await form.getByLabel('Payload (JSON)').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'add-payload', 'focus goes to the payload to fix it');
    assert.equal((await spool.stats('orders'))[0]!.counts.ready, 2, 'nothing was added');

    await form.getByLabel('Payload (JSON)').fill('{ "sku": "A-2", "qty": 3 }');
    assert.equal(await page.locator('#add-payload-error').count(), 0, 'the error goes when the payload is edited');
    await form.getByLabel('Name').fill('reserve');
    await form.getByLabel('Priority').fill('5');
    await form.getByLabel('Max attempts').fill('2');
    await form.getByRole('button', { name: 'Add job' }).click();
    const id = await page.locator('[data-added]').getAttribute('data-added');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Add job', 'the focus stays on the button, for another');
    const job = await spool.get(id!);
    assert.deepEqual([job.queue, job.payload, job.name, job.priority, job.maxAttempts, job.state], ['orders', { sku: 'A-2', qty: 3 }, 'reserve', 5, 2, 'ready']);
    await browser2.page.locator(`tbody tr[data-job="${id}"]`).waitFor();
    await waitText(browser2.page, 'table caption', /queue orders: page 1, 3 shown/);
    assert.deepEqual([...errors, ...browser2.errors], []);
    await browser2.page.context().close();
  });

  it('deletes a queue after a confirmation naming it and its jobs; running jobs go only when asked (force)', async () => {
    await spool.queue('returns').addMany([{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 } }]);
    await spool.claim('returns', 1); // one running job
    const { page, errors } = await signIn(admin);
    // A read of the queue the page sent just before the delete (its capacity, asked with each overview) may come back 404.
    const notFound: string[] = [];
    page.on('response', (r) => void (r.status() === 404 && notFound.push(`${r.request().method()} ${new URL(r.url()).pathname}`)));
    await page.goto(`${broker.url}/#/queues/returns`);
    await waitText(page, 'dd[data-count="active"]', '1');
    const open = page.getByRole('button', { name: 'Delete queue…' });
    // Escape cancels, and focus is back on the button that opened it.
    await open.click();
    const dialog = page.getByRole('dialog', { name: 'Delete queue returns?' });
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /all 3 of its jobs \(2 ready, 1 active\)/);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel', 'the safe choice has the focus');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Delete queue…');

    // Without force, the broker refuses while a job runs: the queue stays.
    await open.click();
    await dialog.getByRole('button', { name: 'Delete queue' }).click();
    await page.getByRole('alert').filter({ hasText: /INVALID_STATE: queue returns has 1 active job/ }).waitFor();
    assert.equal((await spool.stats('returns'))[0]!.counts.ready, 2);

    await open.click();
    await dialog.getByLabel(/Also delete its running jobs \(1 now\)/).check();
    await dialog.getByRole('button', { name: 'Delete queue' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'focus moves to the overview');
    await waitText(page, '[role="status"]', 'Deleted queue returns and its 3 jobs');
    assert.equal((await spool.store.queueList()).some((q) => q.name === 'returns'), false);
    assert.equal((await spool.stats()).some((q) => q.queue === 'returns'), false);
    await page.locator('tr[data-queue="returns"]').waitFor({ state: 'detached' });
    assert.deepEqual(notFound.filter((r) => !r.startsWith('GET /v1/queues/returns/')), []);
    assert.deepEqual(errors.filter((e) => !/status of 409/.test(e) && !(/status of 404/.test(e) && notFound.length)), []);
  });

  it('lists the dead jobs of every queue in one browser, and retries them all, queue after queue; pages cross from queue to queue', async () => {
    const t0 = Date.now();
    const west = await deadJobs('west', 2);
    const east = await deadJobs('east', 3);
    const deadNow = async () => (await spool.stats()).reduce((n, q) => n + q.counts.dead, 0);
    const total = await deadNow();
    assert.ok(total >= 5 && total <= 50, `a page holds them all: ${total}`);
    const { page, errors } = await signIn(admin);
    await page.waitForFunction((n) => document.querySelector('p.across a')?.textContent === `${n} dead jobs`, total);
    await page.getByRole('link', { name: `${total} dead jobs`, exact: true }).click();
    assert.match(page.url(), /#\/jobs\?queue=\*&state=dead$/);
    await waitText(page, 'table caption', new RegExp(`^Jobs of all queues, state dead: page 1, ${total} shown \\(\\d+ queues with dead jobs, by queue, then oldest first\\)$`));
    for (const id of [...west, ...east]) assert.ok(await page.locator(`tbody tr[data-job="${id}"]`).count(), id);
    assert.equal(await page.locator(`tbody tr[data-job="${east[0]}"] td[data-queue]`).textContent(), 'east');
    // Queue order: east's jobs come before west's.
    const shown = await page.locator('tbody tr[data-job] td[data-queue]').allTextContents();
    assert.deepEqual(shown, [...shown].sort());

    await page.getByRole('button', { name: 'Retry all matching…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Retry every matching job?' });
    assert.match((await dialog.textContent()) ?? '', /every job of all queues, state dead \(\d+ queues, one after the other\)/);
    await dialog.getByRole('button', { name: 'Retry all' }).click();
    await page.locator('.bulk-progress[data-outcome="done"]').waitFor();
    await waitText(page, '.bulk-progress span', new RegExp(`${total} matched, ${total} changed, 0 skipped — done$`));
    assert.equal(await deadNow(), 0);
    assert.deepEqual([(await spool.get(west[0]!)).state, (await spool.get(east[0]!)).state], ['ready', 'ready']);
    await waitText(page, 'table tbody', 'No job matches.');

    // Pages of 50 across queues, in name order: east (3), west (2), then 45 of x-more's 50; then its last 5.
    const more = (await spool.queue('x-more').addMany(Array.from({ length: 50 }, (_, i) => ({ payload: { i } })))).map((j) => j.id);
    await page.goto(`${broker.url}/#/jobs?queue=*&state=ready&createdAfter=${t0}`);
    await waitText(page, 'table caption', /^Jobs of all queues, state ready, created from .*: page 1, 50 shown/);
    const rows = () => page.locator('tbody tr[data-job]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-job')));
    assert.deepEqual(await rows(), [...east, ...west, ...more.slice(0, 45)]);
    await page.getByRole('button', { name: 'Next page' }).click();
    await waitText(page, 'table caption', /: page 2, 5 shown/);
    assert.deepEqual(await rows(), more.slice(45));
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await waitText(page, 'table caption', /: page 1, 50 shown/);
    assert.deepEqual(errors, []);
  });
});
