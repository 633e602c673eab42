/**
 * What keeping the job counts costs PostgreSQL writers: add (batches of 100), claim (100) and ack
 * (one call of 100) through the Store, on a fresh schema with the count triggers and on one with
 * them dropped, alternating, several rounds; prints jobs/s (median of the rounds) for each.
 * (SQLite keeps its counts without triggers: see src/store/sqlite/count-ledger.ts.)
 *
 *   node_modules/.bin/node bench/count-triggers.ts --store postgres [--jobs 20000] [--rounds 3] [--no-fsync]
 *
 * With fsync on, commit times dominate and vary between rounds; --no-fsync (SQLite: durability
 * 'no-fsync'; PostgreSQL: synchronous_commit off for the store's sessions) shows the CPU cost.
 */
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { newJobId } from '../src/core/ids.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import type { NewJobRow, Store } from '../src/store/store.ts';
import { benchPostgres } from './postgres-server.ts';

const { values } = parseArgs({ options: { store: { type: 'string', default: 'postgres' }, jobs: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' }, 'no-fsync': { type: 'boolean', default: false } } });
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
      id: newJobId(now), queue, name: 'n', payload: '{"n":1}', priority: 0, runAt: now, state: 'ready', maxAttempts: 3, maxStalls: 3, timeoutMs: 0, trace: null, group: null, createdAt: now,
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
  // SQLite counts in the store (count-ledger.ts: one upsert per queue and state per group commit), not with triggers.
  console.error('bench/count-triggers.ts: SQLite keeps its counts without triggers (src/store/sqlite/count-ledger.ts); use --store postgres. docs/benchmarks.md says what each costs.');
  process.exit(2);
}
const f = (xs: number[]) => `${Math.round(median(xs)).toLocaleString('en')} jobs/s [${xs.map((x) => Math.round(x).toLocaleString('en')).join(', ')}]`;
console.log(`${values.store}${NO_FSYNC ? ' (no fsync)' : ''}: add+claim+ack of ${JOBS.toLocaleString('en')} jobs in batches of ${BATCH}: with the count triggers ${f(results.with)}; without ${f(results.without)}; ` +
  `cost ${(100 * (1 - median(results.with) / median(results.without))).toFixed(1)}%`);
