import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getJob, insertAndClaim, jobId, leaseOf, newRow, T, withStore, type DriverContext } from './harness.ts';

/** The operator's calls: jobsCancel, jobsRetry, jobsPurge. */
export function operatorArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('cancel, retry, purge', () => {
    it('cancel: each waiting or active job is cancelled, with the token of its lease; finished and unknown ones are not', { skip }, () =>
      withStore(ctx, async (store) => {
        const [active] = await insertAndClaim(store, [newRow(1)]);
        await store.jobsInsertMany([newRow(2), newRow(3, { state: 'scheduled', runAt: T + 60_000 }), newRow(4, { queue: 'other' })]);
        const [done] = await store.jobsClaim({ queue: 'other', limit: 1, leaseMs: 1000, now: T });
        await store.jobsComplete([{ lease: leaseOf(done!), result: null }], T + 1);

        const results = await store.jobsCancel([jobId(1), jobId(2), jobId(3), jobId(4), jobId(9)], T + 5);
        assert.deepEqual(results, [
          { found: true, queue: 'q', previous: 'active', token: 1, cancelled: true },
          { found: true, queue: 'q', previous: 'ready', token: 0, cancelled: true },
          { found: true, queue: 'q', previous: 'scheduled', token: 0, cancelled: true },
          { found: true, queue: 'other', previous: 'completed', token: 1, cancelled: false },
          { found: false },
        ]);
        assert.deepEqual(await getJob(store, jobId(1)), {
          ...active!, state: 'cancelled', leaseExpiresAt: null, finishedAt: T + 5, updatedAt: T + 5,
          history: [{ attempt: 1, token: 1, startedAt: T, endedAt: T + 5, outcome: 'cancelled' }],
        });
        assert.deepEqual((await store.jobsGet([jobId(2), jobId(3), jobId(4)])).map((j) => [j?.state, j?.finishedAt, j?.history.length]), [
          ['cancelled', T + 5, 0], ['cancelled', T + 5, 0], ['completed', T + 1, 1],
        ]);
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(active!), result: null }], T + 6), [{ ok: false, state: 'cancelled', token: 1 }]);
        assert.deepEqual(await store.jobsCancel([jobId(2)], T + 7), [{ found: true, queue: 'q', previous: 'cancelled', token: 0, cancelled: false }]);
        assert.deepEqual(await store.jobsCancel([], T), []);
      }));

    it('retry: dead and cancelled jobs become ready now with attempts and stalls reset; scheduled ones ready now; others are left', { skip }, () =>
      withStore(ctx, async (store) => {
        const [dead, cancelled, active] = await insertAndClaim(store, [newRow(1, { maxAttempts: 1 }), newRow(2), newRow(3)]);
        await store.jobsFail([{ lease: leaseOf(dead!), error: 'bad', retryAt: T, unrecoverable: false }], T + 1);
        await store.jobsCancel([cancelled!.id], T + 1);
        await store.jobsInsertMany([newRow(4, { state: 'scheduled', runAt: T + 60_000 }), newRow(5, { queue: 'other' })]);

        const results = await store.jobsRetry([jobId(1), jobId(2), jobId(4), jobId(3), jobId(5), jobId(9)], T + 50);
        assert.deepEqual(results, [
          { found: true, queue: 'q', previous: 'dead', retried: true },
          { found: true, queue: 'q', previous: 'cancelled', retried: true },
          { found: true, queue: 'q', previous: 'scheduled', retried: true },
          { found: true, queue: 'q', previous: 'active', retried: false },
          { found: true, queue: 'other', previous: 'ready', retried: false },
          { found: false },
        ]);
        const deadBefore = await getJob(store, jobId(1));
        assert.deepEqual(deadBefore, {
          ...dead!, state: 'ready', attempt: 0, stalls: 0, runAt: T + 50, updatedAt: T + 50, leaseExpiresAt: null, finishedAt: null, deadReason: null,
          lastError: 'bad', history: [{ attempt: 1, token: 1, startedAt: T, endedAt: T + 1, outcome: 'failed', error: 'bad' }],
        });
        assert.deepEqual((await store.jobsGet([jobId(2), jobId(4), jobId(3)])).map((j) => [j?.state, j?.runAt, j?.attempt, j?.finishedAt]), [
          ['ready', T + 50, 0, null], ['ready', T + 50, 0, null], ['active', T, 1, null],
        ]);
        assert.deepEqual(await getJob(store, jobId(3)), active, 'the active job is left as it was, its lease included');
        // A retried job is leased with a token it never had: no earlier delivery's lease comes back to life.
        const again = await store.jobsClaim({ queue: 'q', limit: 3, leaseMs: 1000, now: T + 60 });
        assert.deepEqual(again.map((j) => [j.id, j.attempt, j.leaseToken]), [[jobId(1), 1, 2], [jobId(2), 1, 2], [jobId(4), 1, 1]]);
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(dead!), result: null }], T + 61), [{ ok: false, state: 'active', token: 2 }]);
        assert.deepEqual(await store.jobsRetry([], T), []);
      }));

    it('purge deletes up to `limit` waiting jobs of one queue, never leased, finished or other queues\' jobs', { skip }, () =>
      withStore(ctx, async (store) => {
        const [active, done] = await insertAndClaim(store, [newRow(1), newRow(2)]);
        await store.jobsComplete([{ lease: leaseOf(done!), result: null }], T + 1);
        await store.jobsInsertMany([newRow(3), newRow(4, { state: 'scheduled', runAt: T + 60_000 }), newRow(5), newRow(6, { queue: 'other' })]);
        assert.equal(await store.jobsPurge({ queue: 'q', limit: 2 }), 2);
        assert.equal(await store.jobsPurge({ queue: 'q', limit: 10 }), 1);
        assert.equal(await store.jobsPurge({ queue: 'q', limit: 10 }), 0);
        assert.deepEqual((await store.jobsGet([jobId(1), jobId(2), jobId(3), jobId(4), jobId(5), jobId(6)])).map((j) => j?.state ?? null), [
          'active', 'completed', null, null, null, 'ready',
        ]);
        assert.equal(active!.id, jobId(1));
      }));
  });
}
