import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpoolError } from '../../../core/errors.ts';
import { jobId, newRow, storedJob, T, withStore, type DriverContext } from './harness.ts';

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
  });
}
