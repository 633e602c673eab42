/**
 * The dashboard test's harness: a real broker on a loopback port over an in-memory store,
 * with tokens required (an admin token that may act, a view token that may only look),
 * Debian's Chromium through playwright-core, and the helpers its scenarios share. Every wait
 * is for a state of the page or the store, with a generous deadline; nothing sleeps.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { connect } from '../../src/client/connect.ts';
import type { RemoteSpool } from '../../src/client/remote-spool.ts';
import { Spool } from '../../src/engine/spool.ts';
import { Authenticator } from '../../src/server/auth/authenticator.ts';
import { createToken } from '../../src/server/auth/tokens.ts';
import { startBroker, type Broker } from '../../src/server/broker.ts';
import type { Worker } from '../../src/worker/worker.ts';

/** What the functions this file runs in the page use of its DOM (the program's types are Node's, not a browser's). */
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
};

export const CHROMIUM = process.env.SPOOL_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Longest wait for one state of the page: far beyond what a loaded 2-core machine needs. */
export const WAIT_MS = 20_000;

export interface Session {
  page: Page;
  /** Errors the page raised or logged (uncaught exceptions, CSP refusals, failed loads other than `expected`). */
  errors: string[];
}

/** What {@link DashboardHarness.start} sets up. */
export interface Dashboard {
  spool: Spool;
  broker: Broker;
  browser: Browser;
  /** A token with the admin scope. */
  admin: string;
  /** A token with the view scope only. */
  view: string;
}

/**
 * The broker, the browser and the tokens, started in `before` and closed in `after`; its
 * helpers are bound, so they may be taken apart: `const { http, signIn } = harness`.
 */
export class DashboardHarness {
  #d: Dashboard | null = null;
  readonly #remotes: RemoteSpool[] = [];
  readonly #workers: Worker[] = [];

  get #up(): Dashboard {
    assert.ok(this.#d, 'the dashboard harness is not started');
    return this.#d;
  }

  async start(): Promise<Dashboard> {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set SPOOL_TEST_CHROMIUM`);
    // searchScanMax at its least (100), so a payload search stops after a scan with no match with few jobs.
    const spool = await Spool.open({ store: 'memory', searchScanMax: 100, onError: () => {} });
    const admin = (await createToken(spool.store, { name: 'ops', scopes: ['admin'] })).token;
    const view = (await createToken(spool.store, { name: 'wallboard', scopes: ['view'] })).token;
    const broker = await startBroker(spool, { host: '127.0.0.1', port: 0, auth: new Authenticator(spool.store, { mode: 'required' }) });
    this.#d = { spool, broker, admin, view } as Dashboard;
    this.#d.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
    return this.#d;
  }

  async close(): Promise<void> {
    const d = this.#d as Partial<Dashboard> | null;
    await d?.browser?.close();
    for (const w of this.#workers) await w.close();
    for (const r of this.#remotes) await r.close();
    await d?.broker?.close();
    await d?.spool?.close();
  }

  /** A call to the broker's HTTP API with a token. */
  http = async (method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> => {
    const res = await fetch(this.#up.broker.url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  };

  /** `n` dead jobs in `queue`: each leased once and failed as unrecoverable (a queue with no other ready job, so those are the ones leased). */
  deadJobs = async (queue: string, n: number): Promise<string[]> => {
    const { spool } = this.#up;
    const jobs = await spool.queue(queue).addMany(Array.from({ length: n }, (_, i) => ({ payload: { n: i, to: `user${i}@example.com` }, maxAttempts: 1 })));
    const leased = await spool.claim(queue, n);
    assert.equal(leased.length, n);
    await Promise.all(leased.map((j) => spool.nack({ jobId: j.id, token: j.leaseToken }, 'smtp: 421 try again later', { unrecoverable: true })));
    return jobs.map((j) => j.id);
  };

  /** A remote worker connected to the broker, as a consumer the dashboard lists. */
  remoteWorker = async (queue: string, client: string, handler: Parameters<RemoteSpool['work']>[1], tags?: Record<string, string>): Promise<Worker> => {
    const remote = await connect(this.#up.broker.wsUrl, { token: this.#up.admin, client, ...(tags ? { tags } : {}), onError: () => {} });
    this.#remotes.push(remote);
    const worker = remote.work(queue, handler, { concurrency: 4 });
    this.#workers.push(worker);
    return worker;
  };

  /** A fresh tab (its own sessionStorage) signed in with `token`. */
  signIn = async (token: string): Promise<Session> => {
    const { browser, broker } = this.#up;
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    // The first look at the session without a token is a 401 by design (it is how the page knows to ask for one).
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    await page.goto(broker.url + '/');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    return { page, errors };
  };
}

/** Waits until the element at `selector` reads `expected` (exactly, or matching), and says what it read if it never does. */
export async function waitText(page: Page, selector: string, expected: string | RegExp): Promise<void> {
  const pattern = typeof expected === 'string' ? `^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$` : expected.source;
  try {
    await page.waitForFunction(
      ([sel, source]) => {
        const el = document.querySelector(sel!);
        return !!el && new RegExp(source!).test((el.textContent ?? '').replace(/\s+/g, ' ').trim());
      },
      [selector, pattern],
      { timeout: WAIT_MS },
    );
  } catch (err) {
    const actual = await page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => '(no such element)');
    throw new Error(`${selector} never read ${String(expected)} within ${WAIT_MS} ms; it reads ${JSON.stringify(actual)} (${(err as Error).message.split("\n")[0]})`, { cause: err });
  }
}
