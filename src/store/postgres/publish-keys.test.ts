/**
 * Idempotency keys on PostgreSQL where they meet transactions: a caller's transaction that
 * rolls back leaves no key behind, and concurrent adds with one key through two engines (two
 * pools, so two transactions race on `publish_keys`) store one job.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import postgres from 'postgres';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { Spool } from '../../engine/spool.ts';
import type { NewJobRow } from '../store.ts';
import { openPostgresStore } from './postgres-store.ts';

const sql = postgres(testPgUrl(), { max: 2, onnotice: () => {} });
after(() => sql.end());
const quiet = { onError: () => {}, log: () => {} };

describe('PostgreSQL: idempotency keys and transactions', () => {
  it("a caller's transaction that rolls back leaves no key behind; one that commits keeps it", async (t) => {
    const schema = uniqueSchema();
    const spool = await Spool.open({ store: testPgUrl(), schema, maintenance: false, ...quiet });
    t.after(() => spool.close());
    const q = spool.queue('q');
    await assert.rejects(
      sql.begin(async (tx) => {
        await q.add(1, { idempotencyKey: 'k', tx });
        throw new Error('roll back');
      }),
      /roll back/,
    );
    const [keys] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${schema}.publish_keys`);
    assert.equal(keys!.n, 0, 'no key survives the rollback');
    const first = await q.add(2, { idempotencyKey: 'k' });
    assert.equal((await spool.get(first.id)).payload, 2);

    // In a caller's transaction: a held key returns its job, a new one is stored with the transaction.
    const jobs = await sql.begin((tx) => q.addMany([{ payload: 3, idempotencyKey: 'k', tx }, { payload: 4, idempotencyKey: 'k2', tx }]));
    assert.equal(jobs[0]!.id, first.id);
    assert.equal((await q.add(5, { idempotencyKey: 'k2' })).id, jobs[1]!.id);
    assert.equal((await q.list()).length, 2);
  });

  it('50 concurrent adds with one key through two engines on one schema store one job', async (t) => {
    const schema = uniqueSchema();
    const a = await Spool.open({ store: testPgUrl(), schema, maintenance: false, ...quiet });
    const b = await Spool.open({ store: testPgUrl(), schema, maintenance: false, ...quiet });
    t.after(async () => {
      await a.close();
      await b.close();
    });
    const adds = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).queue('q').add({ i }, { idempotencyKey: 'once' }));
    const jobs = await Promise.all(adds);
    assert.equal(new Set(jobs.map((j) => j.id)).size, 1);
    assert.equal((await a.queue('q').list()).length, 1);
    // addMany through both at once, with keys overlapping: each key one job.
    const [x, y] = await Promise.all([
      a.queue('q').addMany([{ payload: 1, idempotencyKey: 'p' }, { payload: 2, idempotencyKey: 'r' }]),
      b.queue('q').addMany([{ payload: 3, idempotencyKey: 'r' }, { payload: 4, idempotencyKey: 'p' }]),
    ]);
    assert.equal(x[0]!.id, y[1]!.id);
    assert.equal(x[1]!.id, y[0]!.id);
    assert.equal((await a.queue('q').list()).length, 3);
  });

  it('a batch whose keyed rows have different windows: each key is held, or taken over, by its own', async (t) => {
    const store = await openPostgresStore({ url: testPgUrl(), schema: uniqueSchema() });
    t.after(() => store.close());
    let n = 0;
    const row = (key: string, createdAt: number, since: number): NewJobRow => ({
      id: `01900000-0000-7000-8000-${String(++n).padStart(12, '0')}`, queue: 'q', name: 'default', payload: '1', priority: 0, runAt: createdAt,
      state: 'ready', maxAttempts: 3, maxStalls: 1, timeoutMs: 0, trace: null, group: null, createdAt, idempotency: { key, since },
    });
    const x = row('x', 1000, 0);
    const y = row('y', 1000, 0);
    assert.deepEqual(await store.jobsInsertMany([x, y]), [null, null]);
    // x's window (1,000) ended at 2,000: taken over; y's (5,000) has not: held.
    const x2 = row('x', 5000, 4000);
    assert.deepEqual(await store.jobsInsertMany([x2, row('y', 5000, 0), row('x', 5000, 0)]), [null, y.id, x2.id]);
    assert.deepEqual(await store.jobsInsertMany([row('x', 5001, 4500)]), [x2.id]);
  });
});
