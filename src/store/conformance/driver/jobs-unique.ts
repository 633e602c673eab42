import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewJobRow, Store } from '../../store.ts';
import { getJob, insertAndClaim, jobId, leaseOf, newRow, T, withData, withStore, type DriverContext } from './harness.ts';

/** A row of queue `q` with unique key `key`. */
const keyed = (n: number, key: string, over: Partial<NewJobRow> = {}): NewJobRow => newRow(n, { uniqueKey: key, ...over });

/** Inserts `row` alone; its outcome: 'stored', or the id of the live job holding its key. */
async function tryInsert(store: Store, row: NewJobRow): Promise<string> {
  const [outcome] = await store.jobsInsertEach([row]);
  assert.ok(outcome?.ok, `insert of ${row.id}: ${outcome && !outcome.ok ? outcome.error.message : ''}`);
  return outcome.duplicateOf ?? 'stored';
}

/** Unique keys (NewJobRow.uniqueKey): one live job per (queue, key), freed by every exit from the live states. */
export function uniqueArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('unique keys', () => {
    it('a row whose key a live job of its queue holds is not stored: { duplicateOf } names the holder, in both inserts', { skip }, () =>
      withStore(ctx, async (store) => {
        const first = await store.jobsInsertMany([keyed(1, 'k')]);
        assert.ok(first === undefined || first.every((e) => e === null), 'a stored row: nothing to tell');
        assert.deepEqual(await store.jobsInsertMany([keyed(2, 'k'), keyed(3, 'other'), newRow(4)]), [{ duplicateOf: jobId(1) }, null, null]);
        assert.deepEqual(await store.jobsInsertEach([keyed(5, 'k'), keyed(6, 'k', { queue: 'q2' })]), [{ ok: true, duplicateOf: jobId(1) }, { ok: true }]);
        assert.deepEqual(await store.jobsGet([jobId(2), jobId(5)]), [null, null]);
        assert.deepEqual((await store.jobsList({ queue: 'q', limit: 10 })).map((j) => j.id), [jobId(1), jobId(3), jobId(4)]);
        const [stats] = await store.queueStats('q', T);
        assert.equal(stats!.counts.ready, 3, 'duplicates are not counted');
      }));

    it('one key twice in one call: the first row is stored, the later one is its duplicate', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.deepEqual(await store.jobsInsertMany([keyed(1, 'k'), keyed(2, 'k'), keyed(3, 'j')]), [null, { duplicateOf: jobId(1) }, null]);
        assert.deepEqual(await store.jobsInsertEach([keyed(4, 'x'), keyed(5, 'x')]), [{ ok: true }, { ok: true, duplicateOf: jobId(4) }]);
        assert.deepEqual(await store.jobsGet([jobId(2), jobId(5)]), [null, null]);
      }));

    it('the key is held while the job is scheduled, ready or active, and through a retry, a release and a reaped lease', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([keyed(1, 'k', { state: 'scheduled', runAt: T + 10 })]);
        assert.equal(await tryInsert(store, keyed(2, 'k')), jobId(1));
        const [job] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 100, now: T + 10 });
        assert.equal(job!.id, jobId(1));
        assert.equal(await tryInsert(store, keyed(3, 'k')), jobId(1), 'active');
        await store.jobsFail([{ lease: leaseOf(job!), error: 'x', retryAt: T + 50, unrecoverable: false }], T + 20);
        assert.equal(await tryInsert(store, keyed(4, 'k')), jobId(1), 'scheduled for its retry');
        const [again] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 100, now: T + 50 });
        await store.jobsRelease([leaseOf(again!)], T + 60);
        assert.equal(await tryInsert(store, keyed(5, 'k')), jobId(1), 'released');
        await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 100, now: T + 70 });
        await store.jobsReapExpired({ now: T + 500, limit: 10 });
        assert.equal((await getJob(store, jobId(1))).state, 'ready');
        assert.equal(await tryInsert(store, keyed(6, 'k')), jobId(1), 'reaped');
      }));

    it('completion, death, cancel, delete and expiry free the key', { skip }, () =>
      withStore(ctx, async (store) => {
        const [done, dead] = await insertAndClaim(store, [keyed(1, 'done'), keyed(2, 'dead', { maxAttempts: 1 })]);
        await store.jobsInsertMany([keyed(3, 'cancelled'), keyed(4, 'deleted'), keyed(5, 'expired', { expiresAt: T + 5 })]);
        await store.jobsComplete([{ lease: leaseOf(done!), result: null }], T + 1);
        await store.jobsFail([{ lease: leaseOf(dead!), error: 'x', retryAt: T + 1, unrecoverable: false }], T + 1);
        await store.jobsCancel([jobId(3)], T + 1);
        await store.jobsDelete([jobId(4)], T + 1);
        await store.jobsExpire({ now: T + 10, limit: 10 });
        assert.deepEqual((await store.jobsGet([jobId(1), jobId(2), jobId(3), jobId(5)])).map((j) => j?.state), ['completed', 'dead', 'cancelled', 'dead']);
        for (const [n, key] of [[11, 'done'], [12, 'dead'], [13, 'cancelled'], [14, 'deleted'], [15, 'expired']] as const) {
          assert.equal(await tryInsert(store, keyed(n, key, { createdAt: T + 20 })), 'stored', `after ${key}`);
        }
      }));

    it('an operator retry brings a finished job back without its key, even while another job holds it', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([keyed(1, 'k')]);
        await store.jobsCancel([jobId(1)], T + 1);
        assert.equal(await tryInsert(store, keyed(2, 'k')), 'stored');
        assert.deepEqual((await store.jobsRetry([jobId(1)], T + 2)).map((r) => r.found && r.retried), [true]);
        assert.equal((await getJob(store, jobId(1))).state, 'ready');
        assert.equal(await tryInsert(store, keyed(3, 'k')), jobId(2), 'the key stays with the job that held it');
        await store.jobsCancel([jobId(2)], T + 3);
        assert.equal(await tryInsert(store, keyed(4, 'k')), 'stored', 'the retried job does not hold it');
        // A scheduled job run now by an operator keeps its key.
        await store.jobsInsertMany([keyed(5, 's', { state: 'scheduled', runAt: T + 60_000 })]);
        await store.jobsRetry([jobId(5)], T + 4);
        assert.equal(await tryInsert(store, keyed(6, 's')), jobId(5));
      }));

    it('with an idempotency key: a held idempotency key wins; a duplicate records no idempotency key', { skip }, () =>
      withStore(ctx, async (store) => {
        const idem = (key: string) => ({ key, since: T - 1000 });
        await store.jobsInsertMany([keyed(1, 'u', { idempotency: idem('a') })]);
        assert.deepEqual(await store.jobsInsertEach([keyed(2, 'u', { idempotency: idem('a') })]), [{ ok: true, existing: jobId(1) }]);
        assert.deepEqual(await store.jobsInsertEach([keyed(3, 'u', { idempotency: idem('b') })]), [{ ok: true, duplicateOf: jobId(1) }]);
        await store.jobsCancel([jobId(1)], T + 1);
        // 'b' named nothing: sent again, its row is stored, and then holds both keys.
        assert.deepEqual(await store.jobsInsertEach([keyed(4, 'u', { idempotency: idem('b') })]), [{ ok: true }]);
        assert.deepEqual(await store.jobsInsertEach([keyed(5, 'u', { idempotency: idem('b') })]), [{ ok: true, existing: jobId(4) }]);
        assert.deepEqual(await store.jobsInsertEach([keyed(6, 'u', { idempotency: idem('a') })]), [{ ok: true, existing: jobId(1) }]);
        // In one call: a re-sent add (its idempotency key names job 1, cancelled, which holds no
        // unique key) before a new add with the same unique key. The new one is judged on its own.
        await store.jobsCancel([jobId(4)], T + 2);
        assert.deepEqual(await store.jobsInsertEach([keyed(7, 'u', { idempotency: idem('a') }), keyed(8, 'u'), keyed(9, 'u')]), [
          { ok: true, existing: jobId(1) }, { ok: true }, { ok: true, duplicateOf: jobId(8) },
        ]);
        await store.jobsCancel([jobId(8)], T + 3);
        assert.deepEqual(await store.jobsInsertMany([keyed(10, 'u', { idempotency: idem('a') }), keyed(11, 'u', { idempotency: idem('c') })]), [jobId(1), null]);
        assert.equal((await getJob(store, jobId(11))).state, 'ready');
      }));

    it('uniqueUntil: a finished job holds its key until then (a live holder first); a deleted or redriven one holds nothing', { skip }, () =>
      withStore(ctx, async (store) => {
        const [done] = await insertAndClaim(store, [keyed(1, 'k', { uniqueUntil: T + 100 })]);
        await store.jobsComplete([{ lease: leaseOf(done!), result: null }], T + 10);
        assert.equal(await tryInsert(store, keyed(2, 'k', { createdAt: T + 99 })), jobId(1));
        assert.equal(await tryInsert(store, keyed(3, 'k', { createdAt: T + 100, uniqueUntil: T + 1000 })), 'stored');
        assert.equal(await tryInsert(store, keyed(4, 'k', { createdAt: T + 101 })), jobId(3), 'the live holder');
        await store.jobsCancel([jobId(3)], T + 200);
        assert.equal(await tryInsert(store, keyed(5, 'k', { createdAt: T + 300 })), jobId(3), 'cancelled, inside its window');
        await store.jobsRetry([jobId(3)], T + 400);
        assert.equal(await tryInsert(store, keyed(6, 'k', { createdAt: T + 500, uniqueUntil: T + 2000 })), 'stored', 'the redriven job holds nothing');
        await store.jobsCancel([jobId(6)], T + 600);
        await store.jobsDelete([jobId(6)], T + 700);
        assert.equal(await tryInsert(store, keyed(7, 'k', { createdAt: T + 800 })), 'stored', 'deleted: nothing holds the key');
        // A window that ended before the job finished keeps nothing.
        const [late] = await insertAndClaim(store, [keyed(8, 'late', { queue: 'q2', uniqueUntil: T + 5 })]);
        assert.equal(late!.id, jobId(8));
        await store.jobsComplete([{ lease: leaseOf(late!), result: null }], T + 10);
        assert.equal(await tryInsert(store, keyed(9, 'late', { queue: 'q2', createdAt: T + 11 })), 'stored');
      }));

    it('two stores on one data, 50 concurrent inserts of one key: exactly one is stored, the others name it', { skip: ctx.skip('jobs', 'shared') }, () =>
      withData(ctx, async (d) => {
        const stores = [await d.open(), await d.open()];
        const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => stores[i % 2]!.jobsInsertEach([keyed(i + 1, 'k')])));
        const stored = outcomes.flatMap((o, i) => (o[0]!.ok && o[0]!.duplicateOf === undefined ? [jobId(i + 1)] : []));
        assert.equal(stored.length, 1, JSON.stringify(outcomes));
        for (const [o] of outcomes) assert.ok(o!.ok && (o!.duplicateOf === undefined || o!.duplicateOf === stored[0]), JSON.stringify(o));
        assert.equal((await stores[0]!.jobsList({ queue: 'q', limit: 100 })).length, 1);
      }));
  });
}
