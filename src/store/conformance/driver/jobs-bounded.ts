import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueueFullError } from '../../../core/errors.ts';
import { DROPPED_ERROR } from '../../../core/job.ts';
import type { QueueBound } from '../../../core/queue-config.ts';
import type { InsertReport } from '../../store.ts';
import { getJob, insertAndClaim, jobId, newRow, T, withData, withStore, type DriverContext } from './harness.ts';

const reject = (maxLength: number): QueueBound => ({ maxLength, overflow: 'reject' });
const dropOldest = (maxLength: number): QueueBound => ({ maxLength, overflow: 'drop-oldest' });

/** Rows carrying a bound (NewJobRow.bound): the store counts waiting jobs (ready and scheduled) in the insert's transaction. */
export function boundedArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('bounded inserts (NewJobRow.bound)', () => {
    it("insertMany (reject): a batch that would pass maxLength throws QueueFullError and stores nothing; one that fits is stored", { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([newRow(1, { bound: reject(3) }), newRow(2, { bound: reject(3), state: 'scheduled', runAt: T + 60_000 })]);
        await assert.rejects(store.jobsInsertMany([newRow(3, { bound: reject(3) }), newRow(4, { bound: reject(3) })]),
          (e) => e instanceof QueueFullError && e.queue === 'q' && e.maxLength === 3);
        assert.deepEqual(await store.jobsGet([jobId(3), jobId(4)]), [null, null]);
        await store.jobsInsertMany([newRow(5, { bound: reject(3) })]);
        const [stats] = await store.queueStats('q', T);
        assert.equal(stats!.length, 3);
      }));

    it('insertEach (reject): rows past the bound fail alone with QueueFullError; active jobs and other queues do not count', { skip }, () =>
      withStore(ctx, async (store) => {
        await insertAndClaim(store, [newRow(1), newRow(2)]); // active: not waiting
        const rows = [3, 4, 5].map((n) => newRow(n, { bound: reject(2) }));
        const outcomes = await store.jobsInsertEach([...rows, newRow(6, { queue: 'other' })]);
        assert.deepEqual(outcomes.map((o) => o.ok), [true, true, false, true]);
        assert.ok((outcomes[2] as { error: Error }).error instanceof QueueFullError);
        assert.equal((await store.jobsGet([jobId(5)]))[0], null);
        const [stats] = await store.queueStats('q', T);
        assert.deepEqual([stats!.counts.active, stats!.counts.ready, stats!.length], [2, 2, 2]);
      }));

    it('an idempotent replay at the bound is not refused: it stores nothing and names the earlier job', { skip }, () =>
      withStore(ctx, async (store) => {
        const key = { key: 'k1', since: T - 1000 };
        await store.jobsInsertMany([newRow(1, { bound: reject(1), idempotency: key })]);
        const [outcome] = await store.jobsInsertEach([newRow(2, { bound: reject(1), idempotency: key })]);
        assert.deepEqual(outcome, { ok: true, existing: jobId(1) });
        const [refused] = await store.jobsInsertEach([newRow(3, { bound: reject(1), idempotency: { key: 'k2', since: T - 1000 } })]);
        assert.ok(!refused!.ok && refused!.error instanceof QueueFullError);
      }));

    it('drop-oldest: the rows are stored and the oldest waiting jobs (by id, ready or scheduled) become dead (dropped), reported', { skip }, () =>
      withStore(ctx, async (store) => {
        await insertAndClaim(store, [newRow(1)]); // the oldest job, but active: never dropped
        await store.jobsInsertMany([newRow(2, { state: 'scheduled', runAt: T + 60_000 }), newRow(3)]);
        const report: InsertReport = { dropped: {} };
        await store.jobsInsertMany([newRow(4, { bound: dropOldest(2) })], report);
        assert.deepEqual(report.dropped, { q: 1 });
        const dropped = await getJob(store, jobId(2));
        assert.deepEqual([dropped.state, dropped.deadReason, dropped.lastError, dropped.finishedAt], ['dead', 'dropped', DROPPED_ERROR, T]);
        const [outcome] = await store.jobsInsertEach([newRow(5, { bound: dropOldest(2) })]);
        assert.deepEqual(outcome, { ok: true, dropped: 1 });
        assert.equal((await getJob(store, jobId(3))).deadReason, 'dropped');
        assert.equal((await getJob(store, jobId(1))).state, 'active');
        const [stats] = await store.queueStats('q', T);
        assert.deepEqual([stats!.length, stats!.counts.dead, stats!.counts.active], [2, 2, 1]);
      }));

    it('drop-oldest with a batch larger than the bound keeps its newest maxLength rows waiting', { skip }, () =>
      withStore(ctx, async (store) => {
        const report: InsertReport = { dropped: {} };
        await store.jobsInsertMany([1, 2, 3, 4, 5].map((n) => newRow(n, { bound: dropOldest(2) })), report);
        assert.deepEqual(report.dropped, { q: 3 });
        const states = await Promise.all([1, 2, 3, 4, 5].map(async (n) => (await getJob(store, jobId(n))).state));
        assert.deepEqual(states, ['dead', 'dead', 'dead', 'ready', 'ready']);
      }));

    it('inserts through two stores on the same data at once never together pass the bound', { skip: ctx.skip('jobs', 'shared') }, () =>
      withData(ctx, async (d) => {
        const [a, b] = [await d.open(), await d.open()];
        await a.jobsInsertMany([newRow(1000)]); // the queue exists before the race
        const adds = Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).jobsInsertEach([newRow(i + 1, { bound: reject(10) })]));
        const outcomes = (await Promise.all(adds)).flat();
        assert.equal(outcomes.filter((o) => o.ok).length, 9, 'the bound of 10 less the job already there');
        assert.ok(outcomes.every((o) => o.ok || o.error instanceof QueueFullError));
        const [stats] = await a.queueStats('q', T);
        assert.equal(stats!.length, 10);
      }));
  });
}
