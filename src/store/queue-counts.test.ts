import { scratchDir } from '../../test/support/scratch.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import postgres from 'postgres';
import { testPgUrl, uniqueSchema } from '../../test/support/pg-url.ts';
import { newJobId } from '../core/ids.ts';
import { emptyCounts, type JobState, type Lease, type QueueStats } from '../core/job.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import { pgStatements } from './postgres/statements.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { NewJobRow, Store } from './store.ts';

// The job counts queueStats reads are kept by the stores (SQLite: noted by each write, written
// with its group commit; PostgreSQL: deltas written by triggers, folded by countsRollup). Whatever the store did, they must equal a
// fresh count of the jobs tables, and the oldest ready age the oldest ready job's.

const sql = postgres(testPgUrl(), { max: 4, onnotice: () => {} });
after(() => sql.end());

const QUEUES = ['qa', 'qb', 'qc'];

type Op =
  | { op: 'add'; queue: number; n: number; priority: number; delayed: boolean; ttlMs: number | null; leased: boolean }
  | { op: 'claim'; queue: number; limit: number }
  | { op: 'ack' | 'release'; k: number }
  | { op: 'nack'; k: number; mode: 'now' | 'backoff' | 'dead' }
  | { op: 'cancel' | 'retry' | 'delete'; k: number }
  | { op: 'purge'; queue: number; limit: number }
  | { op: 'queueDelete'; queue: number; force: boolean; limit: number }
  | { op: 'retention' | 'reap' | 'promote' | 'rollup' | 'expire' }
  | { op: 'tick'; ms: number };

const queue = fc.integer({ min: 0, max: QUEUES.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('add' as const), queue, n: fc.integer({ min: 1, max: 6 }), priority: fc.constantFrom(-1_000_000, -3, 0, 0, 5, 1_000_000), delayed: fc.boolean(), ttlMs: fc.constantFrom(null, null, 500, 4_000), leased: fc.boolean() }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('claim' as const), queue, limit: fc.integer({ min: 1, max: 5 }) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constantFrom('ack' as const, 'release' as const), k: fc.nat() }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('nack' as const), k: fc.nat(), mode: fc.constantFrom('now' as const, 'backoff' as const, 'dead' as const) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constantFrom('cancel' as const, 'retry' as const, 'delete' as const), k: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('purge' as const), queue, limit: fc.integer({ min: 1, max: 10 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('queueDelete' as const), queue, force: fc.boolean(), limit: fc.integer({ min: 1, max: 20 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constantFrom('retention' as const, 'reap' as const, 'promote' as const, 'rollup' as const, 'expire' as const) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 5_000 }) }), weight: 2 },
);

/** Runs `ops` on `store`, from time `t0`; returns the time it ended at. */
async function apply(store: Store, ops: readonly Op[], t0: number): Promise<number> {
  let now = t0;
  const ids: string[] = [];
  let held: Lease[] = [];
  const pick = <T>(xs: readonly T[], k: number): T | undefined => (xs.length === 0 ? undefined : xs[k % xs.length]);
  const takeLease = (k: number): Lease | undefined => {
    const l = pick(held, k);
    if (l) held = held.filter((h) => h !== l);
    return l;
  };
  for (const o of ops) {
    now += 1;
    switch (o.op) {
      case 'add': {
        const rows: NewJobRow[] = Array.from({ length: o.n }, () => ({
          id: newJobId(now), queue: QUEUES[o.queue]!, name: 'n', payload: '{}', priority: o.priority,
          runAt: o.delayed ? now + 3_000 : now, state: o.delayed ? 'scheduled' : 'ready', maxAttempts: 2, maxStalls: 2, timeoutMs: 0, trace: null, group: null, createdAt: now,
          expiresAt: o.ttlMs === null ? null : now + o.ttlMs,
          // Leased by the insert (the engine's hand-off to idle consumers): counted active at once.
          ...(o.leased && !o.delayed ? { lease: { workerId: null, expiresAt: now + 2_000 } } : {}),
        }));
        await (o.n % 2 === 0 ? store.jobsInsertMany(rows) : store.jobsInsertEach(rows));
        ids.push(...rows.map((r) => r.id));
        for (const r of rows) if (r.lease) held.push({ jobId: r.id, token: store.insertLeaseToken! });
        break;
      }
      case 'claim':
        held.push(...(await store.jobsClaim({ queue: QUEUES[o.queue]!, limit: o.limit, leaseMs: 2_000, now })).map((j) => ({ jobId: j.id, token: j.leaseToken })));
        break;
      case 'ack': {
        const l = takeLease(o.k);
        if (l) await store.jobsComplete([{ lease: l, result: null }], now);
        break;
      }
      case 'release': {
        const l = takeLease(o.k);
        if (l) await store.jobsRelease([l], now);
        break;
      }
      case 'nack': {
        const l = takeLease(o.k);
        if (l) await store.jobsFail([{ lease: l, error: 'e', retryAt: o.mode === 'backoff' ? now + 1_000 : now, unrecoverable: o.mode === 'dead' }], now);
        break;
      }
      case 'cancel':
      case 'retry':
      case 'delete': {
        const id = pick(ids, o.k);
        if (!id) break;
        if (o.op === 'cancel') await store.jobsCancel([id], now);
        else if (o.op === 'retry') await store.jobsRetry([id], now);
        else await store.jobsDelete([id], now);
        break;
      }
      case 'purge':
        await store.jobsPurge({ queue: QUEUES[o.queue]!, limit: o.limit });
        break;
      case 'queueDelete':
        await store.queueDelete({ name: QUEUES[o.queue]!, force: o.force, limit: o.limit }, now);
        break;
      case 'retention':
        await store.jobsDeleteFinished({ before: { completed: now - 3_000, dead: now - 3_000, cancelled: now - 1_000 }, limit: 7 });
        break;
      case 'reap':
        now += 2_500; // past every lease taken so far
        await store.jobsReapExpired({ now, limit: 100 });
        break;
      case 'promote':
        await store.jobsPromoteDue({ now, limit: 100 });
        break;
      case 'rollup':
        await store.countsRollup?.();
        break;
      case 'expire':
        await store.jobsExpire({ now, limit: 5 });
        break;
      case 'tick':
        now += o.ms;
        break;
    }
  }
  return now;
}

interface Truth {
  queues: string[];
  counts: { queue: string; state: JobState; n: number }[];
  oldest: { queue: string; at: number }[];
}

/** What queueStats(null, now) must say, from a fresh count of the tables. */
function expected(t: Truth, now: number): QueueStats[] {
  const by = new Map<string, QueueStats>();
  const entry = (q: string) => by.get(q) ?? by.set(q, { queue: q, counts: emptyCounts(), oldestReadyAgeMs: 0, paused: false, length: 0, maxLength: null, overflow: 'reject', unservable: 0 }).get(q)!;
  for (const q of t.queues) entry(q);
  for (const c of t.counts) entry(c.queue).counts[c.state] = c.n;
  for (const o of t.oldest) entry(o.queue).oldestReadyAgeMs = Math.max(0, now - o.at);
  for (const s of by.values()) s.length = s.counts.ready + s.counts.scheduled;
  return [...by.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1));
}

const sortedStats = (s: QueueStats[]) => s.map((q) => ({ ...q, counts: { ...q.counts } }));

describe('job counts kept by the store equal a fresh count of the jobs', () => {
  it('SQLite: after random sequences of adds, claims, acks, nacks, cancels, retries, deletes, purges, queue deletes, retention and reaps', async () => {
    const path = join(scratchDir('spool-counts-'), 'c.db');
    const store = new SqliteStore({ path, durability: 'no-fsync' });
    const db = new DatabaseSync(path);
    const truth = (): Truth => ({
      queues: (db.prepare('SELECT name FROM queues').all() as { name: string }[]).map((r) => r.name),
      counts: db.prepare('SELECT queue, state, count(*) AS n FROM jobs GROUP BY queue, state').all() as unknown as Truth['counts'],
      oldest: db.prepare(`SELECT queue, min(run_at) AS at FROM jobs WHERE state = 'ready' GROUP BY queue`).all() as unknown as Truth['oldest'],
    });
    let t = 1_700_000_000_000;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 60, size: 'max' }), async (ops) => {
          db.exec('DELETE FROM jobs; DELETE FROM queues; DELETE FROM queue_counts'); // each run from nothing, so a failure shrinks
          t = (await apply(store, ops, t)) + 1;
          const want = expected(truth(), t);
          assert.deepEqual(sortedStats(await store.queueStats(null, t)), want);
          for (const q of QUEUES) {
            const one = want.filter((s) => s.queue === q);
            assert.deepEqual(await store.queueStats(q, t), one.length > 0 ? one : [{ queue: q, counts: emptyCounts(), oldestReadyAgeMs: 0, paused: false, length: 0, maxLength: null, overflow: 'reject', unservable: 0 }]);
          }
          // Nothing negative or stale is kept: no counter row below 0, none for a queue with no jobs and no row.
          assert.deepEqual(db.prepare('SELECT * FROM queue_counts WHERE n < 0').all(), []);
        }),
        { numRuns: 200 },
      );
    } finally {
      db.close();
      await store.close();
    }
  });

  it('SQLite: a write that fails inside a group commit drops what it noted; the group\'s other writes are counted', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    try {
      const now = 1_700_000_000_000;
      const row = (id: string, queue: string): NewJobRow => ({
        id, queue, name: 'n', payload: '{}', priority: 0, runAt: now, state: 'ready', maxAttempts: 3, maxStalls: 3, timeoutMs: 0, trace: null, group: null, createdAt: now,
      });
      const a = newJobId(now);
      await store.jobsInsertMany([row(a, 'qa')]);
      // One tick, one group: the second insert repeats a's id and fails after noting a job of qb; the others count.
      const outcomes = await Promise.allSettled([
        store.jobsInsertMany([row(newJobId(now), 'qa')]),
        store.jobsInsertMany([row(newJobId(now), 'qb'), row(a, 'qb')]),
        store.jobsInsertMany([row(newJobId(now), 'qc')]),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.deepEqual((await store.queueStats(null, now)).map((q) => [q.queue, q.counts.ready]), [['qa', 2], ['qc', 1]]);
    } finally {
      await store.close();
    }
  });

  it('PostgreSQL: the same, before and after folding the deltas', async () => {
    const schema = uniqueSchema();
    const store = await openPostgresStore({ url: testPgUrl(), schema, poolSize: 2, notify: false });
    const truth = async (): Promise<Truth> => ({
      queues: (await sql.unsafe(`SELECT name FROM ${schema}.queues`)).map((r) => r.name as string),
      counts: (await sql.unsafe(`SELECT queue, state, count(*)::int AS n FROM ${schema}.jobs GROUP BY queue, state
        UNION ALL SELECT queue, state, count(*)::int FROM ${schema}.jobs_finished GROUP BY queue, state`)) as unknown as Truth['counts'],
      oldest: (await sql.unsafe(`SELECT queue, min(run_at)::float8 AS at FROM ${schema}.jobs WHERE state = 'ready' GROUP BY queue`)) as unknown as Truth['oldest'],
    });
    let t = 1_700_000_000_000;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 60, size: 'max' }), async (ops) => {
          // Each run from nothing, so a failure shrinks.
          await sql.unsafe(`DELETE FROM ${schema}.jobs; DELETE FROM ${schema}.jobs_finished; DELETE FROM ${schema}.queues;
            DELETE FROM ${schema}.queue_counts; DELETE FROM ${schema}.queue_count_deltas`);
          t = (await apply(store, ops, t)) + 1;
          const want = expected(await truth(), t);
          assert.deepEqual(sortedStats(await store.queueStats(null, t)), want, 'before the fold');
          await store.countsRollup();
          assert.deepEqual(sortedStats(await store.queueStats(null, t)), want, 'after the fold');
          for (const q of QUEUES) {
            const one = want.filter((s) => s.queue === q);
            assert.deepEqual(await store.queueStats(q, t), one.length > 0 ? one : [{ queue: q, counts: emptyCounts(), oldestReadyAgeMs: 0, paused: false, length: 0, maxLength: null, overflow: 'reject', unservable: 0 }]);
          }
          // The fold keeps no row at 0 (a deleted queue's) and none below it.
          assert.deepEqual([...(await sql.unsafe(`SELECT * FROM ${schema}.queue_counts WHERE n <= 0`))], []);
          assert.deepEqual([...(await sql.unsafe(`SELECT * FROM ${schema}.queue_count_deltas`))], [], 'the fold leaves no delta behind');
        }),
        { numRuns: 100 },
      );
    } finally {
      await store.close();
    }
  });

  it('PostgreSQL: with several connections adding, claiming, acking and failing at once while the deltas are folded again and again, counts stay exact', async () => {
    const schema = uniqueSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url: testPgUrl(), schema, poolSize: 2, notify: false })));
    const q = pgStatements(schema, 50);
    const fresh = `SELECT queue, state, count(*)::int AS n FROM ${schema}.jobs GROUP BY queue, state
      UNION ALL SELECT queue, state, count(*)::int FROM ${schema}.jobs_finished GROUP BY queue, state`;
    const countsOf = (rows: readonly Record<string, unknown>[]) =>
      rows.filter((r) => r.kind === undefined || r.kind === 'count').map((r) => `${r.queue}/${r.state}=${r.n}`).sort();
    /** queueStats' statement and a fresh count in one snapshot (repeatable read): equal, whatever commits around them. */
    const sameSnapshot = async () => {
      const [stats, truth] = await sql.begin('isolation level repeatable read', async (tx) => [await tx.unsafe(q.stats, [null]), await tx.unsafe(fresh)]);
      assert.deepEqual(countsOf(stats), countsOf(truth));
    };
    let running = true;
    let folds = 0;
    let checks = 0;
    const worker = async (store: Store, w: number) => {
      let now = 1_700_000_000_000;
      for (let i = 0; i < 60; i++) {
        now += 10;
        const queue = QUEUES[(w + i) % QUEUES.length]!;
        const rows: NewJobRow[] = Array.from({ length: 5 }, (_, k) => ({
          id: newJobId(now), queue, name: 'n', payload: '{}', priority: k % 2, runAt: now, state: 'ready', maxAttempts: 2, maxStalls: 2, timeoutMs: 0, trace: null, group: null, createdAt: now,
        }));
        await store.jobsInsertMany(rows);
        const jobs = await store.jobsClaim({ queue, limit: 4, leaseMs: 60_000, now, workerId: undefined });
        const [a, ...rest] = jobs;
        if (a) await store.jobsComplete([{ lease: { jobId: a.id, token: a.leaseToken }, result: null }], now);
        if (rest.length > 0) await store.jobsFail(rest.map((j) => ({ lease: { jobId: j.id, token: j.leaseToken }, error: 'e', retryAt: now, unrecoverable: i % 3 === 0 })), now);
      }
    };
    const folder = async () => {
      while (running) {
        await stores[0]!.countsRollup();
        folds++;
        await sameSnapshot();
        checks++;
      }
    };
    try {
      const folding = folder();
      await Promise.all(stores.map((s, w) => worker(s, w)));
      running = false;
      await folding;
      assert.ok(folds > 1 && checks > 1, `folded ${folds} times while the writers ran`);
      await sameSnapshot();
      const before = await stores[1]!.queueStats(null, 1_800_000_000_000);
      await stores[1]!.countsRollup();
      const afterFold = await stores[1]!.queueStats(null, 1_800_000_000_000);
      assert.deepEqual(afterFold, before);
      const truth = await sql.unsafe(fresh);
      const total = afterFold.reduce((sum, s) => sum + Object.values(s.counts).reduce((a, b) => a + b, 0), 0);
      assert.equal(total, 4 * 60 * 5, 'every job added is counted once');
      assert.deepEqual(
        afterFold.flatMap((s) => Object.entries(s.counts).filter(([, n]) => n > 0).map(([state, n]) => `${s.queue}/${state}=${n}`)).sort(),
        countsOf(truth),
      );
    } finally {
      running = false;
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
