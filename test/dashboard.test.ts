/**
 * The web dashboard in a real browser (Debian's Chromium through playwright-core) against a
 * real broker on a loopback port, with tokens required: an admin token that may act and a
 * view token that may only look. The broker, the browser and the helpers are in
 * test/support/dashboard.ts; every wait is for a state of the page or the store, with a
 * generous deadline; nothing sleeps.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Spool } from '../src/engine/spool.ts';
import type { Broker } from '../src/server/broker.ts';
import type { Overview } from '../src/model/overview.ts';
import { waitFor } from '../src/store/conformance/worker.ts';
import { DashboardHarness, WAIT_MS, waitText } from './support/dashboard.ts';

/** What the functions this file runs in the page use of its DOM (the program's types are Node's, not a browser's). */
declare const document: {
  querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null;
  activeElement: { textContent: string | null; tagName: string; id: string } | null;
};
declare const sessionStorage: { getItem(key: string): string | null };

const ROOT = join(import.meta.dirname, '..');

const harness = new DashboardHarness();
const { http, deadJobs, remoteWorker, signIn } = harness;
let spool: Spool;
let broker: Broker;
let browser: Browser;
let admin: string;
let view: string;

before(async () => {
  ({ spool, broker, browser, admin, view } = await harness.start());
});

after(() => harness.close());

describe('dashboard (real broker, real Chromium)', () => {
  it("the browser modules type-check (JSDoc, against the DOM, the vendors' types and the broker's model)", () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--pretty', 'false', '-p', join(ROOT, 'src', 'dashboard')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `tsc -p src/dashboard:\n${r.stdout}${r.stderr}`);
  });

  it('serves the page and its files without a token, from the installed packages, with a strict CSP', async () => {
    const page = await http('GET', '/', null);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const csp = page.headers.get('content-security-policy') ?? '';
    const importMap = /<script type="importmap">(.*?)<\/script>/s.exec(page.json)?.[1];
    assert.ok(importMap, 'the page carries an import map');
    const hash = `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`;
    const host = new URL(broker.url).host;
    for (const directive of ["default-src 'self'", `script-src 'self' ${hash}`, "style-src 'self'", `connect-src 'self' ws://${host} wss://${host}`, "object-src 'none'", "frame-ancestors 'none'"]) {
      assert.ok(csp.split('; ').includes(directive), `CSP has ${directive}: ${csp}`);
    }
    const imports = (JSON.parse(importMap) as { imports: Record<string, string> }).imports;
    assert.deepEqual(Object.keys(imports).sort(), ['htm', 'preact', 'preact/hooks', 'uplot']);
    for (const url of Object.values(imports)) {
      const file = await http('GET', url, null);
      assert.equal(file.status, 200, url);
      assert.equal(file.headers.get('content-type'), 'text/javascript; charset=utf-8', url);
      // The URL names the package's version, so its content never changes.
      assert.match(url, /^\/dashboard\/vendor\/[a-z]+@\d+\.\d+\.\d+[^/]*\/[\w.-]+\.mjs$/);
      assert.equal(file.headers.get('cache-control'), 'public, max-age=31536000, immutable', url);
    }
    const app = await http('GET', '/dashboard/app.js', null);
    assert.equal(app.status, 200);
    const etag = app.headers.get('etag')!;
    const again = await fetch(`${broker.url}/dashboard/app.js`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304, 'unchanged: not sent again');
    assert.equal((await http('GET', '/dashboard/nothing.js', null)).status, 404);
    // Files are looked up by name in what was read at startup: a path that climbs finds nothing.
    const climb = await new Promise<number>((resolve, reject) => {
      get(`${broker.url}/dashboard/..%2f..%2fpackage.json`, (res) => resolve(res.resume().statusCode!)).on('error', reject);
    });
    assert.equal(climb, 404);
    // The page holds no data; what the token may do is a data call like any other.
    assert.equal((await http('GET', '/dashboard/session', null)).status, 401);
    assert.deepEqual((await http('GET', '/dashboard/session', view)).json, { tokenId: view.split('_')[1], scopes: ['view'], admin: false });
    assert.equal((await http('GET', '/dashboard/session', admin)).json.admin, true);
  });

  it('asks for a token, refuses a wrong one, and has landmarks and a skip link for the keyboard', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(broker.url + '/');
    await page.getByLabel('API token').fill('spool_000000000000_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /unknown or revoked/ }).waitFor();
    await page.getByLabel('API token').fill(admin);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Views' }).waitFor();
    await page.getByRole('main').waitFor();
    await page.getByRole('banner').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1');
    await context.close();
  });

  it('shows a queue fill and drain live, and its worker among the consumers', async () => {
    const { page, errors } = await signIn(admin);
    const added = await http('POST', '/v1/queues/fill/jobs', admin, { jobs: Array.from({ length: 20 }, (_, i) => ({ payload: { i } })) });
    assert.equal(added.status, 201);
    await waitText(page, 'tr[data-queue="fill"] td[data-count="ready"]', '20');
    await remoteWorker('fill', 'dashboard-test-worker', async () => ({ ok: true }), { team: 'growth' });
    await waitText(page, 'tr[data-queue="fill"] td[data-count="completed"]', '20');
    await waitText(page, 'tr[data-queue="fill"] td[data-count="ready"]', '0');
    // The chart has the points the pushes brought.
    await page.waitForFunction(() => Number(document.querySelector('figure .chart[aria-label^="Chart of queue fill"]')?.getAttribute('data-points')) >= 2);
    await page.getByRole('link', { name: 'Consumers' }).click();
    await waitText(page, 'tr[data-consumer]', /^dashboard-test-worker.*team=growth.*fill: 4 slots, 0 in flight/);
    // The broker itself, leading its store's upkeep, with its clients.
    await waitText(page, 'table[data-table="processes"] tbody tr:first-child', /this broker.*leads\s*[1-9]/);
    assert.deepEqual(errors, []);
  });

  it('the capacity panel shows the workers a target mean wait needs, as the API answers, with the assumptions', async () => {
    // A known pace: each job runs 50 ms on a worker with 4 slots, so λ, S and c are all measured.
    await remoteWorker('paced', 'paced-worker', async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { ok: true };
    });
    // The rates count from the broker's first sample of a queue: let it take one before the jobs that make λ.
    assert.equal((await http('POST', '/v1/queues/paced/jobs', admin, { payload: { first: true } })).status, 201);
    await waitFor(async () => ((await http('GET', '/v1/overview', admin)).json as Overview).queues.some((q) => q.queue === 'paced' && q.model.windowMs > 0), WAIT_MS, 'a sample of queue paced');
    assert.equal((await http('POST', '/v1/queues/paced/jobs', admin, { jobs: Array.from({ length: 100 }, (_, i) => ({ payload: { i } })) })).status, 201);
    const { page, errors } = await signIn(admin);
    await page.goto(`${broker.url}/#/queues/paced`);
    const panel = page.getByRole('region', { name: 'Capacity' });
    await panel.waitFor();
    await panel.getByText(/^Assumes M\/M\/c: Poisson arrivals at the measured rate/).waitFor();
    await page.getByLabel('Target mean wait before a job starts (ms)').fill('5');
    await page.locator('section.capacity dl[data-target="5"]').waitFor();
    await waitText(page, '[data-capacity="workers"]', '4');
    await waitText(page, '[data-capacity="workersNeeded"] strong', /^[1-9]\d*$/); // S is measured: a number, not a dash

    // The panel and the API are both at most a second old: compare them on the same aggregation (`at`).
    const shown = () => page.evaluate(() => ({
      at: Number(document.querySelector('section.capacity dl')?.getAttribute('data-at')),
      workersNeeded: document.querySelector('[data-capacity="workersNeeded"] strong')?.textContent ?? null,
      workers: document.querySelector('[data-capacity="workers"]')?.textContent ?? null,
    }));
    for (let tries = 1; ; tries++) {
      const before = await shown();
      const api = (await http('GET', '/v1/queues/paced/capacity?targetWaitMs=5', admin)).json;
      if (api.at === before.at) {
        assert.deepEqual([before.workersNeeded, before.workers], [String(api.workersNeeded), String(api.workers)]);
        break;
      }
      assert.ok(tries < 10, `the panel (at ${before.at}) and the API (at ${api.at}) never met on one aggregation`);
      // The API has a newer one: the panel asks again with the next overview.
      await page.waitForFunction((min) => Number(document.querySelector('section.capacity dl')?.getAttribute('data-at')) >= min, api.at);
    }

    await page.getByLabel('Target mean wait before a job starts (ms)').fill('0');
    await page.locator('section.capacity .field.invalid').waitFor();
    await page.getByLabel('Target mean wait before a job starts (ms)').fill('86400001');
    await page.getByRole('alert').filter({ hasText: /targetWaitMs must be at most 86400000/ }).waitFor();
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), []);
  });

  it("follows a running job's progress and log lines, then shows its result", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await remoteWorker('reports', 'report-worker', async (job) => {
      await job.log('rendering page 1');
      await job.updateProgress({ page: 1, of: 2 });
      await released;
      await job.log('rendering page 2');
      await job.updateProgress({ page: 2, of: 2 });
      return { pages: 2 };
    });
    const { page, errors } = await signIn(admin);
    const job = (await http('POST', '/v1/queues/reports/jobs', admin, { payload: { report: 'q3-revenue' } })).json as { id: string };
    // While the job runs, each read of it is answered only once the next one is asked for (the
    // pushes come faster than the answers, as on a loaded machine): the page must show them anyway,
    // not supersede every answer and stay at "Loading…".
    let holding = true;
    const held: { release: (() => void) | null } = { release: null };
    await page.route(`**/v1/jobs/${job.id}`, async (route) => {
      held.release?.();
      if (holding) await new Promise<void>((resolve) => (held.release = resolve));
      await route.continue();
    });
    await page.goto(`${broker.url}/#/job/${job.id}`);
    await waitText(page, '[data-job-state]', 'active');
    await waitText(page, 'table.log tbody', /rendering page 1/);
    await waitText(page, '#progress-title + p', /50%/);
    holding = false;
    held.release?.();
    assert.match((await page.getByRole('region', { name: 'Payload' }).textContent()) ?? '', /"report": "q3-revenue"/);
    release();
    await waitText(page, '[data-job-state]', 'completed');
    await waitText(page, 'table.log tbody', /rendering page 1.*rendering page 2/);
    await waitText(page, '#progress-title + p', /100%/);
    assert.match((await page.getByRole('region', { name: 'Result' }).textContent()) ?? '', /"pages": 2/);
    assert.match((await page.getByRole('region', { name: 'Timeline' }).textContent()) ?? '', /created.*attempt 1 started.*attempt 1 completed.*finished: completed/);
    assert.deepEqual(errors, []);
  });

  it('retries a dead job from its page, and pauses and resumes its queue', async () => {
    const [id] = await deadJobs('mail', 1);
    const { page, errors } = await signIn(admin);
    await page.goto(`${broker.url}/#/job/${id}`);
    await waitText(page, '[data-job-state]', 'dead');
    assert.match((await page.getByRole('region', { name: 'Attempts' }).textContent()) ?? '', /failed.*smtp: 421 try again later/);
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    await waitText(page, '[data-job-state]', 'ready');
    assert.equal((await spool.get(id!)).state, 'ready');
    await waitText(page, '[role="status"]', 'Retry: done');

    await page.getByRole('link', { name: 'mail', exact: true }).click();
    await page.getByRole('heading', { name: 'Queue mail', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Pause deliveries' }).click();
    await page.locator('h1 [data-paused]').waitFor();
    assert.equal((await spool.stats('mail'))[0]!.paused, true);
    await page.getByRole('button', { name: 'Resume deliveries' }).click();
    await page.locator('h1 [data-paused]').waitFor({ state: 'detached' });
    assert.equal((await spool.stats('mail'))[0]!.paused, false);
    assert.deepEqual(errors, []);
  });

  it('retries every dead job matching a filter in batches, stoppable, until they are all ready', async () => {
    await deadJobs('bulk', 250);
    const { page, errors } = await signIn(admin);
    // The second batch is held until Stop is pressed, so the stop happens at a known point.
    let calls = 0;
    let stopped!: () => void;
    const stopPressed = new Promise<void>((resolve) => (stopped = resolve));
    await page.route('**/v1/queues/bulk/bulk', async (route) => {
      if (++calls !== 2) return route.continue();
      await stopPressed;
      await route.abort().catch(() => {}); // the page has given up on it already
    });
    await page.goto(`${broker.url}/#/jobs?queue=bulk&state=dead`);
    await waitText(page, 'table caption', /state dead: page 1, 50 shown/);
    await page.getByRole('button', { name: 'Retry all matching…' }).click();
    await page.getByRole('dialog', { name: 'Retry every matching job?' }).getByRole('button', { name: 'Retry all' }).click();
    await waitText(page, '.bulk-progress span', /1 batch, 100 matched, 100 changed/);
    await page.getByRole('button', { name: 'Stop' }).click();
    stopped();
    await page.locator('.bulk-progress[data-outcome="stopped"]').waitFor();
    assert.deepEqual([(await spool.stats('bulk'))[0]!.counts.ready, (await spool.stats('bulk'))[0]!.counts.dead], [100, 150]);
    await page.unroute('**/v1/queues/bulk/bulk');

    await page.getByRole('button', { name: 'Retry all matching…' }).click();
    await page.getByRole('dialog', { name: 'Retry every matching job?' }).getByRole('button', { name: 'Retry all' }).click();
    await page.locator('.bulk-progress[data-outcome="done"]').waitFor();
    await waitText(page, '.bulk-progress span', /2 batches, 150 matched, 150 changed, 0 skipped — done/);
    const { counts } = (await spool.stats('bulk'))[0]!;
    assert.deepEqual([counts.ready, counts.dead], [250, 0]);
    // The list, filtered on ready, pages through them with the cursor.
    await page.getByLabel('State').selectOption('ready');
    await page.getByRole('button', { name: 'Show' }).click();
    await waitText(page, 'table caption', /state ready: page 1, 50 shown/);
    await page.getByRole('button', { name: 'Next page' }).click();
    await waitText(page, 'table caption', /state ready: page 2, 50 shown/);
    assert.deepEqual(errors, []);
  });

  it('searches by a payload field (going on past a scan with no match, in the list and in bulk) and by creation time', async () => {
    const added = await spool.queue('search').addMany([...Array.from({ length: 100 }, () => ({ payload: { user: { id: 1 } } })), { payload: { user: { id: 2 } } }]);
    const match = added.at(-1)!.id;
    const { page, errors } = await signIn(admin);
    await page.goto(`${broker.url}/#/jobs?queue=search`);
    await waitText(page, 'table caption', /queue search: page 1, 50 shown/);
    await page.getByLabel('Payload field').fill('user.id');
    await page.getByLabel('Equals').fill('2');
    await page.getByRole('button', { name: 'Show' }).click();
    // The first scan examines the 100 jobs of user 1 (searchScanMax): an empty page that is not the end.
    await waitText(page, 'table tbody', /^No matches among the jobs examined so far — Continue/);
    assert.match(page.url(), /#\/jobs\?queue=search&payloadPath=user\.id&payloadEquals=2$/);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitText(page, 'table caption', /payload user\.id = 2: page 2, 1 shown/);
    assert.equal(await page.locator('tbody tr[data-job]').count(), 1);
    assert.equal(await page.locator('tbody tr[data-job]').getAttribute('data-job'), match);

    // Bulk on the same filter goes on past the batch whose scan matched nothing.
    await page.getByRole('button', { name: 'Cancel all matching…' }).click();
    await page.getByRole('dialog', { name: 'Cancel every matching job?' }).getByRole('button', { name: 'Cancel all' }).click();
    await waitText(page, '.bulk-progress span', /2 batches, 1 matched, 1 changed, 0 skipped — done/);
    assert.equal((await spool.get(match)).state, 'cancelled');

    // Created from a time later than every job: none.
    await page.getByLabel('Payload field').fill('');
    await page.getByLabel('Equals').fill('');
    await page.getByLabel('Created from').fill('2999-01-01T00:00');
    await page.getByRole('button', { name: 'Show' }).click();
    await waitText(page, 'table caption', /created from 2999-01-01 00:00:00: page 1, 0 shown/);
    await waitText(page, 'table tbody', 'No job matches.');
    assert.deepEqual(errors, []);
  });


  it('filters by group: kept in the URL, a Group column while a job of the page has one, the group in the job view', async () => {
    const q = spool.queue('tenants');
    const acme = await q.addMany([1, 2, 3].map((n) => ({ payload: n, group: 'acme' })));
    await q.addMany([{ payload: 4, group: 'globex' }, { payload: 5 }]);
    await spool.queue('ungrouped').add(1);
    const { page, errors } = await signIn(admin);
    await page.goto(`${broker.url}/#/jobs?queue=tenants`);
    await waitText(page, 'table caption', /queue tenants: page 1, 5 shown/);
    assert.deepEqual(await page.locator('tbody td[data-group]').allTextContents(), ['acme', 'acme', 'acme', 'globex', '–']);
    await page.getByLabel('Group', { exact: true }).fill('acme');
    await page.getByRole('button', { name: 'Show' }).click();
    await waitText(page, 'table caption', /queue tenants, group acme: page 1, 3 shown/);
    assert.match(page.url(), /#\/jobs\?queue=tenants&group=acme$/);
    const rows = await page.locator('tbody tr[data-job]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-job')));
    assert.deepEqual(rows, acme.map((j) => j.id));
    assert.equal(await page.getByLabel('Group', { exact: true }).inputValue(), 'acme', 'the field shows the filter of the URL');
    // With a state: the group's dead jobs, none.
    await page.getByLabel('State').selectOption('dead');
    await page.getByRole('button', { name: 'Show' }).click();
    await waitText(page, 'table caption', /queue tenants, state dead, group acme: page 1, 0 shown/);
    // The job view shows the group, a link to the group's jobs.
    await page.goto(`${broker.url}/#/job/${acme[0]!.id}`);
    await waitText(page, 'dd a[data-group]', 'acme');
    await page.locator('dd a[data-group]').click();
    await waitText(page, 'table caption', /queue tenants, group acme: page 1, 3 shown/);
    // A page where no job has a group: no Group column.
    await page.goto(`${broker.url}/#/jobs?queue=ungrouped`);
    await waitText(page, 'table caption', /queue ungrouped: page 1, 1 shown/);
    assert.equal(await page.locator('thead th', { hasText: 'Group' }).count(), 0);
    assert.deepEqual(errors, []);
  });

  it('with a view token: sees everything, every action is disabled with the reason, and the API refuses it', async () => {
    const [id] = await deadJobs('audit', 1);
    const { page, errors } = await signIn(view);
    await page.locator('.who .readonly').waitFor();
    await waitText(page, 'tr[data-queue="audit"] td[data-count="dead"]', /^[1-9]\d*$/);

    await page.goto(`${broker.url}/#/job/${id}`);
    await waitText(page, '[data-job-state]', 'dead');
    for (const name of ['Retry', 'Cancel', 'Delete…']) assert.equal(await page.getByRole('button', { name, exact: true }).isDisabled(), true, name);
    const retry = page.getByRole('button', { name: 'Retry', exact: true });
    assert.match((await page.locator(`#${await retry.getAttribute('aria-describedby')}`).textContent()) ?? '', /Read only: this token \(view\).*admin scope/);

    await page.goto(`${broker.url}/#/queues/audit`);
    await page.getByRole('heading', { name: 'Queue audit', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Save settings' }).waitFor();
    for (const name of ['Pause deliveries', 'Purge waiting jobs…', 'Delete queue…', 'Save settings', 'Add job']) assert.equal(await page.getByRole('button', { name }).isDisabled(), true, name);
    assert.equal(await page.getByLabel('Payload (JSON)').isDisabled(), true);

    await page.goto(`${broker.url}/#/jobs?queue=audit&state=dead`);
    await waitText(page, 'table caption', /state dead: page 1/);
    for (const name of ['Retry all matching…', 'Cancel all matching…', 'Delete all matching…']) assert.equal(await page.getByRole('button', { name }).isDisabled(), true, name);

    // The buttons only mirror the broker, which refuses the call itself.
    const refused = await page.evaluate(async (jobId) => {
      const res = await fetch(`/v1/jobs/${jobId}/retry`, { method: 'POST', headers: { authorization: `Bearer ${sessionStorage.getItem('spool.token')}` } });
      return { status: res.status, body: (await res.json()) as { code: string; message: string } };
    }, id!);
    assert.deepEqual([refused.status, refused.body.code, refused.body.message], [403, 'FORBIDDEN', 'this token lacks admin']);
    assert.equal((await spool.get(id!)).state, 'dead');
    // Nor may it delete the queue or add to it.
    const deleteQueue = await http('DELETE', '/v1/queues/audit?force=true', view);
    const add = await http('POST', '/v1/queues/audit/jobs', view, { payload: { x: 1 } });
    assert.deepEqual([deleteQueue.status, deleteQueue.json.code, add.status, add.json.code], [403, 'FORBIDDEN', 403, 'FORBIDDEN']);
    assert.equal((await spool.stats('audit'))[0]!.counts.dead, 1);
    assert.deepEqual(errors.filter((e) => !/status of 403/.test(e)), []);
  });
});
