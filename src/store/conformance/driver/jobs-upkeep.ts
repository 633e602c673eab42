import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPIRED_ERROR } from '../../../core/job.ts';
import { getJob, insertAndClaim, jobId, leaseOf, newRow, T, withStore, type DriverContext } from './harness.ts';

const LEASE_EXPIRED = 'lease expired: the worker died, stalled, or lost its connection';

/** Maintenance: jobsReapExpired, jobsPromoteDue, jobsDeleteFinished, jobsNextDueAt. */
export function upkeepArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('reap, promote, retention, next due', () => {
    it('reap ends leases whose deadline has come (at it, not before) and returns each with the token of the lease that ended', { skip }, () =>
      withStore(ctx, async (store) => {
        const [job] = await insertAndClaim(store, [newRow(1, { queue: 'r', maxStalls: 3 })], 1, T, 1000);
        assert.deepEqual(await store.jobsReapExpired({ now: T + 999, limit: 10 }), []);
        assert.deepEqual(await store.jobsReapExpired({ now: T + 1000, limit: 10 }), [{ id: job!.id, token: 1, queue: 'r', state: 'ready', deadReason: null }]);
        assert.deepEqual(await getJob(store, job!.id), {
          ...job!, state: 'ready', stalls: 1, runAt: T + 1000, leaseExpiresAt: null, updatedAt: T + 1000, lastError: LEASE_EXPIRED,
          history: [{ attempt: 1, token: 1, startedAt: T, endedAt: T + 1000, outcome: 'expired' }],
        });
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(job!), result: null }], T + 1001), [{ ok: false, state: 'ready', token: 1 }]);
        const [again] = await store.jobsClaim({ queue: 'r', limit: 1, leaseMs: 1000, now: T + 1002 });
        assert.deepEqual([again!.attempt, again!.leaseToken], [2, 2]);
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(job!), result: null }], T + 1003), [{ ok: false, state: 'active', token: 2 }]);
        assert.deepEqual(await store.jobsReapExpired({ now: T + 2002, limit: 10 }), [{ id: job!.id, token: 2, queue: 'r', state: 'ready', deadReason: null }]);
      }));

    it('reap: a job out of stalls is dead as poison, one out of attempts dead as max-attempts', { skip }, () =>
      withStore(ctx, async (store) => {
        const [poison, spent] = await insertAndClaim(store, [newRow(1, { maxStalls: 1 }), newRow(2, { maxAttempts: 1, maxStalls: 5 })], 2, T, 100);
        const reaped = await store.jobsReapExpired({ now: T + 100, limit: 10 });
        assert.deepEqual([...reaped].sort((a, b) => (a.id < b.id ? -1 : 1)), [
          { id: jobId(1), token: 1, queue: 'q', state: 'dead', deadReason: 'poison' },
          { id: jobId(2), token: 1, queue: 'q', state: 'dead', deadReason: 'max-attempts' },
        ]);
        const dead = { state: 'dead', stalls: 1, leaseExpiresAt: null, updatedAt: T + 100, finishedAt: T + 100, lastError: LEASE_EXPIRED };
        const record = { attempt: 1, token: 1, startedAt: T, endedAt: T + 100, outcome: 'expired' };
        assert.deepEqual(await getJob(store, jobId(1)), { ...poison!, ...dead, deadReason: 'poison', history: [record] });
        assert.deepEqual(await getJob(store, jobId(2)), { ...spent!, ...dead, deadReason: 'max-attempts', history: [record] });
      }));

    const shorten = ctx.skip('jobs', 'jobsShorten');
    it('shorten brings a lease\'s end forward only while the lease still ends where its holder last set it; the reaper then takes it back', { skip: shorten }, () =>
      withStore(ctx, async (store) => {
        const [job] = await insertAndClaim(store, [newRow(1, { queue: 'r' })], 1, T, 600_000);
        const lease = leaseOf(job!);
        assert.deepEqual(await store.jobsShorten!([{ lease, expiresAt: T + 599_999, until: T + 1000 }], T + 10), [false], 'another end than the one known: untouched');
        assert.deepEqual(await store.jobsShorten!([{ lease: { ...lease, token: 2 }, expiresAt: T + 600_000, until: T + 1000 }], T + 10), [false], 'another token: untouched');
        assert.equal((await getJob(store, job!.id)).leaseExpiresAt, T + 600_000);
        assert.deepEqual(await store.jobsShorten!([{ lease, expiresAt: T + 600_000, until: T + 1000 }], T + 10), [true]);
        assert.deepEqual([(await getJob(store, job!.id)).leaseExpiresAt, (await getJob(store, job!.id)).updatedAt], [T + 1000, T + 10]);
        assert.deepEqual(await store.jobsShorten!([{ lease, expiresAt: T + 1000, until: T + 2000 }], T + 20), [false], 'never lengthened');
        assert.deepEqual(await store.jobsReapExpired({ now: T + 999, limit: 10 }), []);
        assert.deepEqual(await store.jobsReapExpired({ now: T + 1000, limit: 10 }), [{ id: job!.id, token: 1, queue: 'r', state: 'ready', deadReason: null }]);
      }));

    it('shorten never touches a newer lease of the job, nor the same lease extended since its holder last set it', { skip: shorten }, () =>
      withStore(ctx, async (store) => {
        // The old lease (token 1) was taken back and the job leased again (token 2): shortening token 1 does nothing.
        const [job] = await insertAndClaim(store, [newRow(1, { queue: 'r' })], 1, T, 1000);
        await store.jobsReapExpired({ now: T + 1000, limit: 10 });
        const [again] = await store.jobsClaim({ queue: 'r', limit: 1, leaseMs: 600_000, now: T + 1001 });
        assert.deepEqual([again!.id, again!.leaseToken], [job!.id, 2]);
        assert.deepEqual(await store.jobsShorten!([{ lease: leaseOf(job!), expiresAt: T + 1000, until: T + 1100 }], T + 1002), [false]);
        assert.deepEqual(await store.jobsShorten!([{ lease: leaseOf(job!), expiresAt: T + 601_001, until: T + 1100 }], T + 1002), [false], 'not even given the newer lease\'s end');
        assert.deepEqual([(await getJob(store, job!.id)).state, (await getJob(store, job!.id)).leaseExpiresAt], ['active', T + 601_001]);
        // The same lease extended since (the worker came back through another connection): left as the extend set it.
        const [other] = await insertAndClaim(store, [newRow(2, { queue: 's' })], 1, T + 1002, 1000);
        assert.deepEqual(await store.jobsExtend([{ lease: leaseOf(other!), leaseMs: 600_000 }], T + 1500), [{ ok: true, leaseExpiresAt: T + 601_500 }]);
        assert.deepEqual(await store.jobsShorten!([
          { lease: leaseOf(other!), expiresAt: T + 2002, until: T + 1600 },
          { lease: leaseOf(again!), expiresAt: T + 601_001, until: T + 2000 },
        ], T + 1600), [false, true], 'each item alone');
        assert.equal((await getJob(store, other!.id)).leaseExpiresAt, T + 601_500);
        assert.equal((await getJob(store, job!.id)).leaseExpiresAt, T + 2000);
        assert.deepEqual(await store.jobsShorten!([], T + 700), []);
      }));

    it('reap takes at most `limit`, oldest deadline first, in every queue', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([newRow(1, { queue: 'b' }), newRow(2, { queue: 'a' }), newRow(3, { queue: 'c' })]);
        for (const [queue, leaseMs] of [['c', 100], ['a', 200], ['b', 300]] as const) await store.jobsClaim({ queue, limit: 1, leaseMs, now: T });
        assert.deepEqual((await store.jobsReapExpired({ now: T + 1000, limit: 1 })).map((r) => r.queue), ['c']);
        assert.deepEqual((await store.jobsReapExpired({ now: T + 1000, limit: 1 })).map((r) => r.queue), ['a']);
        assert.deepEqual((await store.jobsReapExpired({ now: T + 1000, limit: 10 })).map((r) => r.queue), ['b']);
      }));

    it('expire: jobs never started past their deadline (at it, not before) go dead in every queue, at most `limit`; a claim never leases one', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([
          newRow(1, { queue: 'a', expiresAt: T + 100 }), newRow(2, { queue: 'b', state: 'scheduled', runAt: T + 5000, expiresAt: T + 100 }),
          newRow(3, { queue: 'a', expiresAt: T + 500 }), newRow(4, { queue: 'a' }), newRow(5, { queue: 'c', expiresAt: T + 100 }),
        ]);
        const [started] = await store.jobsClaim({ queue: 'c', limit: 1, leaseMs: 10_000, now: T });
        assert.equal(started!.expiresAt, T + 100);
        assert.deepEqual(await store.jobsExpire({ now: T + 99, limit: 10 }), {});
        const first = await store.jobsExpire({ now: T + 100, limit: 1 });
        const second = await store.jobsExpire({ now: T + 100, limit: 10 });
        assert.deepEqual({ ...first, ...second }, { a: 1, b: 1 }, 'the started job of c is not touched');
        assert.deepEqual(await getJob(store, jobId(1)), {
          ...(await getJob(store, jobId(1))), state: 'dead', deadReason: 'expired', lastError: EXPIRED_ERROR, finishedAt: T + 100, updatedAt: T + 100,
        });
        assert.equal((await getJob(store, jobId(2))).deadReason, 'expired');
        // The claim moves job 3 to dead itself, and leases job 4 only.
        const claimed = await store.jobsClaim({ queue: 'a', limit: 10, leaseMs: 1000, now: T + 500 });
        assert.deepEqual(claimed.map((j) => j.id), [jobId(4)]);
        assert.deepEqual([(await getJob(store, jobId(3))).state, (await getJob(store, jobId(3))).deadReason], ['dead', 'expired']);
        const stats = await store.queueStats('a', T + 500);
        assert.deepEqual([stats[0]!.counts.dead, stats[0]!.counts.active], [2, 1]);
      }));

    it('promote moves due scheduled jobs (earliest first, at most `limit`) to ready and returns their queues', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([
          newRow(1, { state: 'scheduled', runAt: T + 30, queue: 'x' }),
          newRow(2, { state: 'scheduled', runAt: T + 10, queue: 'y' }),
          newRow(3, { state: 'scheduled', runAt: T + 20, queue: 'y' }),
          newRow(4, { state: 'scheduled', runAt: T + 500, queue: 'z' }),
          newRow(5, { runAt: T, queue: 'w' }),
        ]);
        assert.deepEqual(await store.jobsPromoteDue({ now: T + 9, limit: 10 }), []);
        assert.deepEqual(await store.jobsPromoteDue({ now: T + 100, limit: 2 }), ['y'], 'the two earliest, one queue once');
        assert.deepEqual((await store.jobsGet([jobId(1), jobId(2), jobId(3), jobId(4)])).map((j) => j?.state), ['scheduled', 'ready', 'ready', 'scheduled']);
        const promoted = await getJob(store, jobId(2));
        assert.deepEqual([promoted.runAt, promoted.updatedAt], [T + 10, T + 100], 'the run time is kept');
        assert.deepEqual((await store.jobsPromoteDue({ now: T + 100, limit: 10 })).sort(), ['x']);
        assert.deepEqual((await store.jobsPromoteDue({ now: T + 500, limit: 10 })).sort(), ['z']);
      }));

    it('next due: the earliest run time of a scheduled job, or null', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.equal(await store.jobsNextDueAt(), null);
        await store.jobsInsertMany([newRow(1, { runAt: T - 100 }), newRow(2, { state: 'scheduled', runAt: T + 70 }), newRow(3, { state: 'scheduled', runAt: T + 40, queue: 'b' })]);
        assert.equal(await store.jobsNextDueAt(), T + 40, 'ready jobs do not count');
        await store.jobsPromoteDue({ now: T + 40, limit: 10 });
        assert.equal(await store.jobsNextDueAt(), T + 70);
        await store.jobsPromoteDue({ now: T + 70, limit: 10 });
        assert.equal(await store.jobsNextDueAt(), null);
      }));

    it('retention deletes finished jobs that finished before their state\'s cutoff, at most `limit`, never live ones', { skip }, () =>
      withStore(ctx, async (store) => {
        const jobs = await insertAndClaim(store, [1, 2, 3, 4, 5].map((n) => newRow(n, { maxAttempts: 1 })), 5, T, 60_000);
        await store.jobsComplete([{ lease: leaseOf(jobs[0]!), result: null }], T + 10);
        await store.jobsComplete([{ lease: leaseOf(jobs[1]!), result: null }], T + 20);
        await store.jobsFail([{ lease: leaseOf(jobs[2]!), error: 'x', retryAt: T, unrecoverable: false }], T + 10);
        await store.jobsCancel([jobs[3]!.id], T + 10);
        await store.jobsInsertMany([newRow(6, { createdAt: T - 1_000_000, runAt: T - 1_000_000 })]);
        const before = { completed: T + 20, dead: T + 10, cancelled: T + 11 };
        assert.equal(await store.jobsDeleteFinished({ before, limit: 10 }), 2, 'completed at T+10 and cancelled at T+10; the cutoff is exclusive');
        assert.deepEqual((await store.jobsGet(jobs.map((j) => j.id).concat(jobId(6)))).map((j) => j?.state ?? null), [null, 'completed', 'dead', null, 'active', 'ready']);
        const all = { completed: T + 1000, dead: T + 1000, cancelled: T + 1000 };
        assert.equal(await store.jobsDeleteFinished({ before: all, limit: 1 }), 1);
        assert.equal(await store.jobsDeleteFinished({ before: all, limit: 10 }), 1);
        assert.equal(await store.jobsDeleteFinished({ before: all, limit: 10 }), 0);
        assert.deepEqual((await store.jobsGet(jobs.map((j) => j.id).concat(jobId(6)))).map((j) => j?.state ?? null), [null, null, null, null, 'active', 'ready']);
      }));
  });
}
