import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpoolError } from '../../../core/errors.ts';
import { insertAndClaim, jobId, leaseOf, newRow, storedJob, T, withStore, type DriverContext } from './harness.ts';

/** jobsInsertMany (all or nothing), jobsInsertEach (one outcome per row), jobsGet. */
export function insertArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('insert and get', () => {
    it('stores each row as given; get returns the jobs in the order asked, null for unknown ids', { skip }, () =>
      withStore(ctx, async (store) => {
        const rows = [
          newRow(1, { payload: '{"to":"a@example.com","tags":["x","ü"],"n":1.5}', priority: -3 }),
          newRow(2, { queue: 'other', name: 'report', payload: '["a",null,true]', state: 'scheduled', runAt: T + 60_000, maxAttempts: 1, maxStalls: 7 }),
          newRow(3, { payload: '"text"', createdAt: T - 5, runAt: T - 5 }),
          newRow(4, { payload: 'null', priority: 2_000_000_000 }),
        ];
        await store.jobsInsertMany(rows);
        const got = await store.jobsGet([jobId(4), jobId(9), jobId(2), jobId(1), jobId(3)]);
        assert.deepEqual(got, [storedJob(rows[3]!), null, storedJob(rows[1]!), storedJob(rows[0]!), storedJob(rows[2]!)]);
        assert.deepEqual(await store.jobsGet([]), []);
      }));

    it('insertMany is atomic: a batch with a row the store refuses stores none of it and creates no queue', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([newRow(1)]);
        await assert.rejects(store.jobsInsertMany([newRow(2, { queue: 'fresh' }), newRow(1, { queue: 'fresh' })]), 'a duplicate id is refused');
        assert.deepEqual(await store.jobsGet([jobId(2)]), [null]);
        assert.equal(await store.queueGet('fresh'), null);
        assert.deepEqual(await store.jobsList({ queue: 'fresh', limit: 10 }), []);
        await store.jobsInsertMany([]);
      }));

    it('insertEach: one outcome per row, in order; a refused row fails alone with a SpoolError naming it', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([newRow(1)]);
        const rows = [newRow(2), newRow(1, { queue: 'only-refused' }), newRow(3, { queue: 'other' })];
        const outcomes = await store.jobsInsertEach(rows);
        assert.deepEqual(outcomes.map((o) => o.ok), [true, false, true]);
        const error = (outcomes[1] as { error: Error }).error;
        assert.ok(error instanceof SpoolError, `a SpoolError, not ${error?.constructor?.name}: ${error?.message}`);
        assert.match(error.message, new RegExp(jobId(1)));
        assert.deepEqual(await store.jobsGet([jobId(2), jobId(3)]), [storedJob(rows[0]!), storedJob(rows[2]!)]);
        assert.equal((await store.jobsGet([jobId(1)]))[0]!.queue, 'q', 'the refused row changed nothing');
        assert.equal(await store.queueGet('only-refused'), null, 'a queue whose only row was refused is not created');
        assert.ok(await store.queueGet('other'));
        assert.deepEqual(await store.jobsInsertEach([]), []);
      }));

    it('a row leased by its insert is stored as a claim right after an insert leaves a new job: active, counted, its token the only one that acks', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.ok(store.insertLeaseToken !== undefined, 'both stores lease at insert');
        const lease = { workerId: null, expiresAt: T + 1000 };
        // Every insert path: one of a tick's single adds, and an add with an idempotency key.
        await store.jobsInsertEach([newRow(1, { lease })]);
        await store.jobsInsertMany([newRow(2, { lease, idempotency: { key: 'k2', since: T - 1 } })]);
        const [claimed] = await insertAndClaim(store, [newRow(3)], 1, T, 1000);
        const [one, two, three] = await store.jobsGet([jobId(1), jobId(2), jobId(3)]);
        const apart = (job: typeof one) => ({ ...job!, id: '', payload: null });
        assert.deepEqual(apart(one), apart(three), 'leased by its insert as by a claim');
        assert.deepEqual(apart(two), apart(three));
        assert.deepEqual([one!.state, one!.attempt, one!.leaseToken, one!.leaseExpiresAt], ['active', 1, store.insertLeaseToken, T + 1000]);
        assert.equal(claimed!.leaseToken, store.insertLeaseToken, 'a claim gives a new job the same token');
        assert.deepEqual(await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T }), [], 'a leased job is not claimable');
        const [stats] = await store.queueStats('q', T);
        assert.deepEqual([stats!.counts.active, stats!.counts.ready], [3, 0]);

        assert.deepEqual(await store.jobsComplete([{ lease: { jobId: jobId(1), token: one!.leaseToken + 1 }, result: null }], T + 10), [{ ok: false, state: 'active', token: one!.leaseToken }]);
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(one!), result: null }], T + 10), [{ ok: true }]);
        // Its lease runs out like any other: back to ready, and the next delivery's token is higher.
        const reaped = await store.jobsReapExpired({ now: T + 1000, limit: 10 });
        assert.deepEqual(reaped.map((r) => r.id).sort(), [jobId(2), jobId(3)]);
        const again = await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T + 1001 });
        assert.deepEqual(again.map((j) => j.id).sort(), [jobId(2), jobId(3)]);
        assert.ok(again.every((j) => j.leaseToken > two!.leaseToken), 'a later delivery never repeats the token');
        const redelivered = again.find((j) => j.id === jobId(2))!;
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(two!), result: null }], T + 1002), [{ ok: false, state: 'active', token: redelivered.leaseToken }], 'the lease of the insert acks no later delivery');
      }));
  });
}
