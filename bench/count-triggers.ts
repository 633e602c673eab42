/**
 * What keeping the job counts costs writers: add (batches of 100), claim (100) and ack (one call
 * of 100) through the Store, on a fresh store with the count triggers and on one with them
 * dropped, alternating, several rounds; prints jobs/s (median of the rounds) for each.
 *
 *   node_modules/.bin/node bench/count-triggers.ts [--store sqlite|postgres] [--jobs 20000] [--rounds 3] [--no-fsync]
 *
 * With fsync on, commit times dominate and vary between rounds; --no-fsync (SQLite: durability
 * 'no-fsync'; PostgreSQL: synchronous_commit off for the store's sessions) shows the CPU cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { newJobId } from '../src/core/ids.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { NewJobRow, Store } from '../src/store/store.ts';
import { benchPostgres } from './postgres-server.ts';

const { values } = parseArgs({ options: { store: { type: 'string', default: 'sqlite' }, jobs: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' }, 'no-fsync': { type: 'boolean', default: false } } });
const NO_FSYNC = values['no-fsync'];
const JOBS = Number(values.jobs);
const BATCH = 100;

/** Adds, claims and acks JOBS jobs in batches over 10 queues; returns jobs/s. */
async function cycle(store: Store): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < JOBS / BATCH; i++) {
    const now = Date.now();
    const queue = `q${i % 10}`;
    const rows: NewJobRow[] = Array.from({ length: BATCH }, () => ({
      id: newJobId(now), queue, name: 'n', payload: '{"n":1}', priority: 0, runAt: now, state: 'ready', maxAttempts: 3, maxStalls: 3, timeoutMs: 0, trace: null, createdAt: now,
    }));
    await store.jobsInsertMany(rows);
    const jobs = await store.jobsClaim({ queue, limit: BATCH, leaseMs: 30_000, now });
    await store.jobsComplete(jobs.map((j) => ({ lease: { jobId: j.id, token: j.leaseToken }, result: null })), now);
  }
  return JOBS / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<'with' | 'without', number[]> = { with: [], without: [] };

if (values.store === 'postgres') {
  const server = await benchPostgres();
  const sql = postgres(server.url, { max: 1, onnotice: () => {} });
  try {
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const kind of ['with', 'without'] as const) {
        const schema = `trig_${process.pid}_${r}_${kind}`;
        const url = NO_FSYNC ? `${server.url}${server.url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c synchronous_commit=off')}` : server.url;
        const store = await openPostgresStore({ url, schema, notify: false });
        if (kind === 'without') {
          for (const t of ['jobs', 'jobs_finished']) for (const e of ['insert', 'delete', 'update']) await sql.unsafe(`DROP TRIGGER ${t}_count_${e} ON ${schema}.${t}`);
        }
        results[kind].push(await cycle(store));
        await store.close();
        await sql.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      }
    }
  } finally {
    await sql.end();
    await server.close();
  }
} else {
  const dir = mkdtempSync(join(tmpdir(), 'spool-trig-'));
  try {
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const kind of ['with', 'without'] as const) {
        const path = join(dir, `${r}-${kind}.db`);
        await new SqliteStore({ path }).close();
        if (kind === 'without') {
          const db = new DatabaseSync(path);
          db.exec('DROP TRIGGER jobs_count_insert; DROP TRIGGER jobs_count_delete; DROP TRIGGER jobs_count_update');
          db.close();
        }
        const store = new SqliteStore({ path, durability: NO_FSYNC ? 'no-fsync' : 'fsync' });
        results[kind].push(await cycle(store));
        await store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const f = (xs: number[]) => `${Math.round(median(xs)).toLocaleString('en')} jobs/s [${xs.map((x) => Math.round(x).toLocaleString('en')).join(', ')}]`;
console.log(`${values.store}${NO_FSYNC ? ' (no fsync)' : ''}: add+claim+ack of ${JOBS.toLocaleString('en')} jobs in batches of ${BATCH}: with the count triggers ${f(results.with)}; without ${f(results.without)}; ` +
  `cost ${(100 * (1 - median(results.with) / median(results.without))).toFixed(1)}%`);
