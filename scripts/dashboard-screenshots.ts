// `npm run dashboard:screenshots`: the PNGs of docs/dashboard/, shown in README.md and
// docs/operations.md. Starts a broker on a loopback port with sample traffic (producers, remote
// workers that take time, fail now and then, report progress and write log lines), lets the
// charts fill, and has Debian's Chromium take a picture of each view, in a laptop's window.
//
// Run it again after changing the dashboard, and look at the pictures before committing them.
// SPOOL_TEST_CHROMIUM names another Chromium; SCREENSHOT_POINTS how many pushes the charts wait for.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { connect } from '../src/client/connect.ts';
import type { RemoteSpool } from '../src/client/remote-spool.ts';
import { UnrecoverableError } from '../src/core/errors.ts';
import { Spool } from '../src/engine/spool.ts';
import { Authenticator } from '../src/server/auth/authenticator.ts';
import { createToken } from '../src/server/auth/tokens.ts';
import { startBroker } from '../src/server/broker.ts';
import type { Worker } from '../src/worker/worker.ts';

/** An error as a handler of a real application would throw it, its stack in the application's own files (not this script's). */
function sampleError(message: string): Error {
  const err = new Error(message);
  err.stack = `Error: ${message}\n    at sendRequest (app/src/http.ts:42:11)\n    at renderReport (app/src/reports.ts:88:5)`;
  return err;
}

/** What the functions this script runs in the page use of its DOM (the program's types are Node's, not a browser's). */
declare const document: {
  querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }>;
  activeElement: { blur?: () => void } | null;
  getElementById(id: string): { scrollIntoView(): void } | null;
};

const OUT = join(import.meta.dirname, '..', 'docs', 'dashboard');
const CHROMIUM = process.env.SPOOL_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Pushes (about one a second) the charts get before the pictures: enough for lines to read. */
const POINTS = Number(process.env.SCREENSHOT_POINTS ?? 45);
const VIEWPORT = { width: 1366, height: 900 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`dashboard:screenshots: ${line}\n`);

mkdirSync(OUT, { recursive: true });
const spool = await Spool.open({ store: 'memory', onError: () => {} });
const { token } = await createToken(spool.store, { name: 'ops', scopes: ['admin'] });
const broker = await startBroker(spool, { host: '127.0.0.1', port: 0, auth: new Authenticator(spool.store, { mode: 'required' }) });
log(`broker on ${broker.url}`);

await spool.queue('reports').configure({ backoff: { type: 'fixed', delayMs: 500 }, maxAttempts: 3 });
await spool.queue('webhooks').configure({ backoff: { type: 'fixed', delayMs: 300 }, maxAttempts: 2 });

// Remote workers, so the Consumers view has them, each with its own client name.
const remotes: RemoteSpool[] = [];
const workers: Worker[] = [];
async function worker(queue: string, client: string, concurrency: number, handler: Parameters<RemoteSpool['work']>[1]): Promise<void> {
  const remote = await connect(broker.wsUrl, { token, client, tags: { app: client.split('@')[1]!, region: 'eu-west-1' }, onError: () => {} });
  remotes.push(remote);
  workers.push(remote.work(queue, handler, { concurrency }));
}
await worker('emails', 'mailer@app-1', 8, async () => {
  await sleep(20 + Math.random() * 60);
  return { sent: true };
});
await worker('images', 'thumbnailer@app-2', 2, async (job) => {
  await sleep(150 + Math.random() * 250);
  await job.updateProgress(100);
  return { sizes: [64, 256, 1024] };
});
await worker('reports', 'reporter@app-3', 2, async (job) => {
  const { pages } = job.payload as { pages: number };
  for (let page = 1; page <= pages; page++) {
    await job.log(`rendering page ${page} of ${pages}`);
    await job.updateProgress({ page, of: pages });
    await sleep(80);
    if (job.attempt === 1 && page === 2 && (job.payload as { flaky: boolean }).flaky) throw sampleError('database: canceling statement due to statement timeout');
  }
  await job.log('uploaded to s3://reports/' + job.id + '.pdf');
  return { pages, bytes: 18_432 * pages };
});
await worker('webhooks', 'hooks@app-1', 4, async (job) => {
  await sleep(30);
  const { url } = job.payload as { url: string };
  if (url.includes('gone')) throw new UnrecoverableError(`POST ${url}: 410 Gone`);
  if (Math.random() < 0.15) throw sampleError(`POST ${url}: 503 Service Unavailable`);
  return { status: 200 };
});

// Producers: steady mail, bursts of images, a few reports, webhooks with some dead ends.
let tick = 0;
const producing = setInterval(() => {
  tick++;
  void spool.queue('emails').addMany(Array.from({ length: 3 + (tick % 5) }, (_, i) => ({ payload: { to: `user${tick}-${i}@example.com`, template: 'receipt' } })));
  if (tick % 40 < 12) void spool.queue('images').addMany(Array.from({ length: 3 }, (_, i) => ({ payload: { src: `uploads/${tick}-${i}.jpg` } })));
  if (tick % 25 === 0) void spool.queue('reports').add({ report: 'monthly-revenue', pages: 4, flaky: tick % 50 === 0 }, { name: 'monthly' });
  if (tick % 4 === 0) void spool.queue('webhooks').add({ url: tick % 20 === 0 ? 'https://partner.example.com/hooks/gone' : 'https://partner.example.com/hooks/orders', event: 'order.paid' }, { name: 'order.paid' });
}, 200);
await spool.queue('reports').add({ report: 'quarterly-revenue', pages: 5, flaky: true }, { name: 'quarterly' });

// Alert rules, their webhook a receiver on loopback: dead webhooks fire (a partner's endpoint is gone), the others watch.
const receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
await spool.setAlert({ id: 'webhooks-dead', queue: 'webhooks', kind: 'deadLetters', threshold: 0, webhook });
await spool.setAlert({ id: 'emails-waiting', queue: 'emails', kind: 'oldestReadyAge', threshold: 30_000, forMs: 60_000, webhook, secret: 'sample-secret' });
await spool.setAlert({ id: 'images-busy', queue: 'images', kind: 'utilisation', threshold: 0.85, forMs: 120_000, webhook });
await spool.setAlert({ id: 'reports-unconsumed', queue: 'reports', kind: 'noWorkers', forMs: 30_000, webhook });

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
try {
  const page = await signedIn('light');
  log(`waiting for ${POINTS} points on each chart`);
  await chartsHave(page, POINTS);
  await shoot(page, 'overview');

  await page.goto(`${broker.url}/#/queues/webhooks`);
  await page.locator('#dead-title + .table-wrap tbody tr').first().waitFor();
  await shoot(page, 'queue');

  // The form that adds a job, with a payload that is not JSON (its error said at the field); then the delete confirmation.
  await page.getByLabel('Payload (JSON)').fill('{ "to": "https://example.com/hook", "event": order.paid }');
  await page.getByLabel('Name', { exact: true }).fill('order.paid');
  await page.getByRole('button', { name: 'Add job' }).click();
  await page.locator('#add-payload-error').waitFor();
  await page.evaluate(() => document.getElementById('add-title')?.scrollIntoView());
  await shoot(page, 'queue-add');
  await page.getByRole('button', { name: 'Delete queue…' }).click();
  await page.getByRole('dialog', { name: 'Delete queue webhooks?' }).waitFor();
  await shoot(page, 'queue-delete');
  await page.keyboard.press('Escape');

  await page.goto(`${broker.url}/#/jobs?queue=webhooks`);
  await page.locator('tr[data-job]').first().waitFor();
  await shoot(page, 'jobs');

  // Every queue's dead jobs in one list.
  await page.goto(`${broker.url}/#/jobs?queue=*&state=dead`);
  await page.locator('tr[data-job]').first().waitFor();
  await shoot(page, 'jobs-all');

  // A report that failed once and then completed: a timeline with both attempts, progress and its log.
  const flaky = (await spool.list('reports', { state: 'completed', name: 'quarterly' }))[0];
  if (!flaky) throw new Error('the quarterly report has not completed');
  await page.goto(`${broker.url}/#/job/${flaky.id}`);
  await page.locator('table.log tbody tr').first().waitFor();
  await shoot(page, 'job', true);

  await page.goto(`${broker.url}/#/consumers`);
  await page.locator('tr[data-consumer]').nth(3).waitFor();
  await shoot(page, 'consumers');

  await page.goto(`${broker.url}/#/alerts`);
  await page.locator('table[data-table="alert-events"] [data-delivery="delivered"]').first().waitFor();
  await shoot(page, 'alerts');

  // The dark theme (prefers-color-scheme), in a tab of its own: its charts start from the broker's history.
  const dark = await signedIn('dark');
  await chartsHave(dark, 10);
  await shoot(dark, 'overview-dark');
} finally {
  clearInterval(producing);
  await browser.close();
  for (const w of workers) await w.close();
  for (const r of remotes) await r.close();
  await broker.close();
  await spool.close();
  receiver.close();
}

async function signedIn(colorScheme: 'light' | 'dark'): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT, colorScheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  await page.goto(broker.url + '/');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  return page;
}

/** Waits until each of the four queues' charts has `n` points. */
async function chartsHave(page: Page, n: number): Promise<void> {
  await page.waitForFunction((min) => {
    const charts = [...document.querySelectorAll('.chart')];
    return charts.length >= 4 && charts.every((c) => Number(c.getAttribute('data-points')) >= min);
  }, n);
}

async function shoot(page: Page, name: string, fullPage = false): Promise<void> {
  // The focus ring is not part of the picture.
  await page.evaluate(() => document.activeElement?.blur?.());
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, fullPage });
  log(`wrote ${path}`);
}
