import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job, Lease } from '../../../core/job.ts';
import type { Store } from '../../store.ts';
import { getJob, insertAndClaim, jobId, leaseOf, newRow, T, withStore, type DriverContext } from './harness.ts';

/** The four calls that need a held lease, each tried with a lease that is not held: one result per item. */
const leaseCalls = {
  complete: (store: Store, lease: Lease, now: number) => store.jobsComplete([{ lease, result: '1' }], now),
  fail: (store: Store, lease: Lease, now: number) => store.jobsFail([{ lease, error: 'boom', retryAt: now, unrecoverable: false }], now),
  extend: (store: Store, lease: Lease, now: number) => store.jobsExtend([{ lease, leaseMs: 1000 }], now),
  release: (store: Store, lease: Lease, now: number) => store.jobsRelease([lease], now),
};

/** An attempt record as the history keeps it. */
const attempt = (job: Job, endedAt: number, outcome: string, error?: string) => ({
  attempt: job.attempt, token: job.leaseToken, startedAt: T, endedAt, outcome, ...(error === undefined ? {} : { error }),
});

/** jobsComplete, jobsFail, jobsExtend, jobsRelease: results, what they store, and their misses. */
export function settleArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('complete, fail, extend, release', () => {
    it('complete with the held lease: completed, with its result, finish time and attempt record', { skip }, () =>
      withStore(ctx, async (store) => {
        const [a, b] = await insertAndClaim(store, [newRow(1), newRow(2)]);
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(a!), result: '{"sent":true}' }, { lease: leaseOf(b!), result: null }], T + 10), [{ ok: true }, { ok: true }]);
        const done = { state: 'completed', leaseExpiresAt: null, finishedAt: T + 10, updatedAt: T + 10, deadReason: null, lastError: null };
        assert.deepEqual(await getJob(store, a!.id), { ...a!, ...done, result: { sent: true }, history: [attempt(a!, T + 10, 'completed')] });
        assert.deepEqual(await getJob(store, b!.id), { ...b!, ...done, result: null, history: [attempt(b!, T + 10, 'completed')] });
      }));

    /** The same calls with several leases, as the engine batches the acks of one tick. */
    const batchCalls = {
      complete: (store: Store, leases: Lease[], now: number) => store.jobsComplete(leases.map((lease) => ({ lease, result: '1' })), now),
      fail: (store: Store, leases: Lease[], now: number) => store.jobsFail(leases.map((lease) => ({ lease, error: 'boom', retryAt: now, unrecoverable: false })), now),
      extend: (store: Store, leases: Lease[], now: number) => store.jobsExtend(leases.map((lease) => ({ lease, leaseMs: 1000 })), now),
      release: (store: Store, leases: Lease[], now: number) => store.jobsRelease(leases, now),
    };
    for (const [call, run] of Object.entries(batchCalls)) {
      it(`${call} of two leases of one job in one call (a late ack beside the holder's): only the held one succeeds`, { skip }, async () => {
        for (const order of ['stale first', 'held first'] as const) {
          await withStore(ctx, async (store) => {
            const [job] = await insertAndClaim(store, [newRow(1)], 1);
            const held = leaseOf(job!);
            const stale = { jobId: job!.id, token: held.token - 1 };
            const results = await run(store, order === 'stale first' ? [stale, held] : [held, stale], T + 1);
            assert.deepEqual(results.map((r) => r.ok), order === 'stale first' ? [false, true] : [true, false], `${order}: ${JSON.stringify(results)}`);
          });
        }
      });
    }

    for (const [call, run] of Object.entries(leaseCalls)) {
      it(`${call} with a lease not held changes nothing and says why: the job's state and token now`, { skip }, () =>
        withStore(ctx, async (store) => {
          const [job] = await insertAndClaim(store, [newRow(1), newRow(2)], 1);
          const before = await getJob(store, job!.id);
          for (const token of [0, 2, 99]) {
            assert.deepEqual(await run(store, { jobId: job!.id, token }, T + 1), [{ ok: false, state: 'active', token: 1 }], `token ${token}`);
          }
          assert.deepEqual(await run(store, { jobId: jobId(2), token: 0 }, T + 1), [{ ok: false, state: 'ready', token: 0 }], 'a job never leased');
          assert.deepEqual(await run(store, { jobId: jobId(7), token: 1 }, T + 1), [{ ok: false, state: null, token: null }], 'an unknown job');
          assert.deepEqual(await getJob(store, job!.id), before);
          await store.jobsComplete([{ lease: leaseOf(job!), result: null }], T + 2);
          assert.deepEqual(await run(store, leaseOf(job!), T + 3), [{ ok: false, state: 'completed', token: 1 }], 'after the job finished');
        }));
    }

    it('a batch mixing held and stale leases applies the held ones: one result per item, in order', { skip }, () =>
      withStore(ctx, async (store) => {
        const [a, b, c] = await insertAndClaim(store, [newRow(1), newRow(2), newRow(3)]);
        const stale = { jobId: b!.id, token: 5 };
        assert.deepEqual(
          await store.jobsComplete([{ lease: leaseOf(a!), result: null }, { lease: stale, result: null }, { lease: leaseOf(c!), result: null }], T + 1),
          [{ ok: true }, { ok: false, state: 'active', token: 1 }, { ok: true }],
        );
        assert.deepEqual((await store.jobsGet([a!.id, b!.id, c!.id])).map((j) => j?.state), ['completed', 'active', 'completed']);
        for (const call of [store.jobsComplete([], T), store.jobsFail([], T), store.jobsExtend([], T), store.jobsRelease([], T)]) assert.deepEqual(await call, []);
      }));

    it('fail: scheduled at retryAt when attempts remain, ready when retryAt is now, dead when used up or unrecoverable', { skip }, () =>
      withStore(ctx, async (store) => {
        const rows = [newRow(1), newRow(2), newRow(3, { maxAttempts: 1 }), newRow(4)];
        const [later, now, last, unrec] = await insertAndClaim(store, rows);
        const results = await store.jobsFail([
          { lease: leaseOf(later!), error: 'e1', retryAt: T + 5000, unrecoverable: false },
          { lease: leaseOf(now!), error: 'e2', retryAt: T + 10, unrecoverable: false },
          { lease: leaseOf(last!), error: 'e3', retryAt: T + 5000, unrecoverable: false },
          { lease: leaseOf(unrec!), error: 'e4', retryAt: T + 5000, unrecoverable: true },
        ], T + 10);
        assert.deepEqual(results, [
          { ok: true, state: 'scheduled', deadReason: null },
          { ok: true, state: 'ready', deadReason: null },
          { ok: true, state: 'dead', deadReason: 'max-attempts' },
          { ok: true, state: 'dead', deadReason: 'unrecoverable' },
        ]);
        const common = { leaseExpiresAt: null, updatedAt: T + 10 };
        assert.deepEqual(await getJob(store, later!.id), { ...later!, ...common, state: 'scheduled', runAt: T + 5000, lastError: 'e1', history: [attempt(later!, T + 10, 'failed', 'e1')] });
        assert.deepEqual(await getJob(store, now!.id), { ...now!, ...common, state: 'ready', runAt: T + 10, lastError: 'e2', history: [attempt(now!, T + 10, 'failed', 'e2')] });
        const dead = { ...common, state: 'dead', finishedAt: T + 10 };
        assert.deepEqual(await getJob(store, last!.id), { ...last!, ...dead, deadReason: 'max-attempts', lastError: 'e3', history: [attempt(last!, T + 10, 'failed', 'e3')] });
        assert.deepEqual(await getJob(store, unrec!.id), { ...unrec!, ...dead, deadReason: 'unrecoverable', lastError: 'e4', history: [attempt(unrec!, T + 10, 'failed', 'e4')] });
        // The failed attempt counts: the retried job comes back as attempt 2 with a new token.
        const [again] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 1000, now: T + 20 });
        assert.deepEqual([again!.id, again!.attempt, again!.leaseToken], [now!.id, 2, 2]);
      }));

    it('extend moves the lease deadline to now + leaseMs and returns it; the reaper then keeps off until then', { skip }, () =>
      withStore(ctx, async (store) => {
        const [job] = await insertAndClaim(store, [newRow(1)], 1, T, 1000);
        assert.deepEqual(await store.jobsExtend([{ lease: leaseOf(job!), leaseMs: 5000 }], T + 900), [{ ok: true, leaseExpiresAt: T + 5900 }]);
        assert.deepEqual(await getJob(store, job!.id), { ...job!, leaseExpiresAt: T + 5900, updatedAt: T + 900 });
        assert.deepEqual(await store.jobsReapExpired({ now: T + 5899, limit: 10 }), []);
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(job!), result: null }], T + 5899), [{ ok: true }], 'the same lease still holds');
      }));

    it('release gives the job back ready without counting the attempt; the next claim gets a new token', { skip }, () =>
      withStore(ctx, async (store) => {
        const [job] = await insertAndClaim(store, [newRow(1)]);
        assert.deepEqual(await store.jobsRelease([leaseOf(job!)], T + 3), [{ ok: true }]);
        assert.deepEqual(await getJob(store, job!.id), {
          ...job!, state: 'ready', attempt: 0, leaseExpiresAt: null, updatedAt: T + 3, history: [attempt(job!, T + 3, 'released')],
        });
        const [again] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 1000, now: T + 4 });
        assert.deepEqual([again!.attempt, again!.leaseToken], [1, 2]);
        assert.deepEqual(await store.jobsComplete([{ lease: leaseOf(job!), result: null }], T + 5), [{ ok: false, state: 'active', token: 2 }], 'the released lease is stale');
      }));
  });
}
