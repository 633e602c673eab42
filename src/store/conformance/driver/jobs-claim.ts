import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getJob, jobId, newRow, storedJob, T, withStore, type DriverContext } from './harness.ts';

/** jobsClaim: claim order, limits, queues, due scheduled jobs, the lease it gives. */
export function claimArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('claim', () => {
    it('leases ready jobs of one queue in claim order: priority, then ready time, then id', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([
          newRow(1, { priority: 0, runAt: T - 10 }),
          newRow(2, { priority: 5, runAt: T }),
          newRow(3, { priority: 5, runAt: T - 5 }),
          newRow(4, { priority: 0, runAt: T - 10 }),
          newRow(5, { priority: -1, runAt: T - 100 }),
          newRow(6, { priority: 9, queue: 'other' }),
        ]);
        const ids = async (limit: number) => (await store.jobsClaim({ queue: 'q', limit, leaseMs: 1000, now: T })).map((j) => j.id);
        assert.deepEqual(await ids(3), [jobId(3), jobId(2), jobId(1)]);
        assert.deepEqual(await ids(1), [jobId(4)]);
        assert.deepEqual(await ids(10), [jobId(5)]);
        assert.deepEqual(await ids(10), [], 'nothing left: active jobs are not claimed again');
        assert.equal((await getJob(store, jobId(6))).state, 'ready', 'another queue is untouched');
      }));

    it('gives each claimed job a lease: active, attempt + 1, a new token, the lease deadline', { skip }, () =>
      withStore(ctx, async (store) => {
        const row = newRow(1, { runAt: T - 50 });
        await store.jobsInsertMany([row]);
        const [job] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 30_000, now: T + 7 });
        const expected = { ...storedJob(row), state: 'active' as const, attempt: 1, leaseToken: 1, leaseExpiresAt: T + 7 + 30_000, updatedAt: T + 7 };
        assert.deepEqual(job, expected);
        assert.deepEqual(await getJob(store, row.id), expected);
      }));

    it('takes scheduled jobs that are due (in claim order with the ready ones), never those still in the future', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([
          newRow(1, { state: 'scheduled', runAt: T + 1000 }),
          newRow(2, { state: 'scheduled', runAt: T - 1, priority: 1 }),
          newRow(3, { runAt: T - 2 }),
          newRow(4, { state: 'scheduled', runAt: T }),
        ]);
        const claimed = await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T });
        assert.deepEqual(claimed.map((j) => j.id), [jobId(2), jobId(3), jobId(4)]);
        assert.equal((await getJob(store, jobId(1))).state, 'scheduled');
        assert.deepEqual((await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T + 999 })).map((j) => j.id), []);
        assert.deepEqual((await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T + 1000 })).map((j) => j.id), [jobId(1)]);
      }));

    it('with a concurrency rule: at most a key\'s limit active (the batch counted too), the group\'s first waiting job alone under group FIFO, in claim order', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([
          newRow(1, { concurrencyKey: 'a', priority: 1 }),
          newRow(2, { concurrencyKey: 'a' }),
          newRow(3, { concurrencyKey: 'a' }),
          newRow(4, { concurrencyKey: 'vip' }),
          newRow(5, { concurrencyKey: 'vip' }),
          newRow(6),
          newRow(7, { group: 'g', state: 'scheduled', runAt: T + 1000 }),
          newRow(8, { group: 'g' }),
          newRow(9, { group: 'h', priority: -1 }),
          newRow(10, { group: 'h', priority: 5 }),
        ]);
        const concurrency = { limit: 2, limits: { vip: 1 }, groupFifo: true };
        const claim = async (limit: number) => (await store.jobsClaim({ queue: 'q', limit, leaseMs: 1000, now: T, concurrency })).map((j) => j.id);
        assert.deepEqual(await claim(100), [jobId(1), jobId(2), jobId(4), jobId(6), jobId(9)],
          'a: 2 of 3; vip: 1; no key: free; g waits for its scheduled first job; h: its first job, whatever the priorities');
        assert.deepEqual(await claim(100), [], 'every key and group is full');
        assert.equal((await getJob(store, jobId(1))).concurrencyKey, 'a');
        await store.jobsComplete([{ lease: { jobId: jobId(1), token: 1 }, result: null }], T);
        await store.jobsRelease([{ jobId: jobId(9), token: 1 }], T);
        assert.deepEqual(await claim(100), [jobId(3), jobId(9)], 'an ack freed a slot of a; the released job is its group\'s first again');
        assert.deepEqual(await store.jobsClaim({ queue: 'q', limit: 100, leaseMs: 1000, now: T + 1000, concurrency }).then((js) => js.map((j) => j.id)), [jobId(7)],
          'g\'s first job is due: it starts, and g\'s second waits for it');
      }));

    it('resource tags: a claim leases only jobs whose required tags are all among its tags, passing over the others in claim order', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([
          newRow(1, { requires: 'gpu', priority: 9 }),
          newRow(2, { requires: 'gpu,region:eu', priority: 8 }),
          newRow(3, { priority: 7 }),
          newRow(4, { requires: 'region:eu', state: 'scheduled', runAt: T - 1, priority: 6 }),
          newRow(5, { priority: 5 }),
          newRow(6, { requires: 'gpu', priority: 4 }),
        ]);
        const claim = async (limit: number, tags?: string[]) => (await store.jobsClaim({ queue: 'q', limit, leaseMs: 1000, now: T, ...(tags ? { tags } : {}) })).map((j) => j.id);
        assert.deepEqual(await claim(1), [jobId(3)], 'no tags: the first job without required tags, past the tagged ones');
        assert.deepEqual(await claim(10, []), [jobId(5)], 'empty tags: the same; the tagged jobs stay');
        assert.deepEqual(await claim(10, ['region:eu']), [jobId(4)], 'a subset of a job\'s tags is not enough (job 2); a due scheduled job is taken');
        assert.deepEqual(await claim(10, ['gpu', 'region:eu', 'ssd']), [jobId(1), jobId(2), jobId(6)], 'a superset takes them, in claim order');
        const job = await getJob(store, jobId(2));
        assert.deepEqual(job.requires, ['gpu', 'region:eu']);
        assert.deepEqual((await getJob(store, jobId(3))).requires, []);
        await store.jobsFail([{ lease: { jobId: jobId(2), token: 1 }, error: 'x', retryAt: T, unrecoverable: true }], T);
        await store.jobsRetry([jobId(2)], T);
        assert.deepEqual(await claim(10, ['ssd']), [], 'a retried job keeps its required tags');
        assert.deepEqual(await claim(10, ['gpu', 'region:eu']), [jobId(2)]);
      }));

    it('resource tags hold by sort key and under a concurrency rule too', { skip }, () =>
      withStore(ctx, async (store) => {
        const order = { policy: 'priority' as const, agingMs: 0 };
        await store.jobsInsertMany([
          newRow(1, { requires: 'gpu', order }), newRow(2, { order }),
          newRow(3, { queue: 'c', requires: 'gpu', concurrencyKey: 'k' }), newRow(4, { queue: 'c', concurrencyKey: 'k' }), newRow(5, { queue: 'c', requires: 'gpu', concurrencyKey: 'k' }),
        ]);
        const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id);
        assert.deepEqual(ids(await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T, byKey: true })), [jobId(2)]);
        assert.deepEqual(ids(await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T, byKey: true, tags: ['gpu'] })), [jobId(1)]);
        const concurrency = { limit: 2, limits: {}, groupFifo: false };
        assert.deepEqual(ids(await store.jobsClaim({ queue: 'c', limit: 10, leaseMs: 1000, now: T, concurrency })), [jobId(4)]);
        assert.deepEqual(ids(await store.jobsClaim({ queue: 'c', limit: 10, leaseMs: 1000, now: T, concurrency, tags: ['gpu'] })), [jobId(3)],
          'the key\'s limit counts the active job the tagless claim took');
      }));

    it('with per-key limits alone: the jobs of keys at their limits are passed over however many come first, in claim order', { skip }, () =>
      withStore(ctx, async (store) => {
        // More jobs of the held key than a claim's first window (concurrency-claim.ts) ahead of the others.
        await store.jobsInsertMany([
          ...Array.from({ length: 100 }, (_, i) => newRow(i + 1, { concurrencyKey: 'vip', priority: 2 })),
          newRow(101, { concurrencyKey: 'a' }),
          newRow(102, { concurrencyKey: 'a', priority: 1 }),
          newRow(103),
        ]);
        const concurrency = { limit: 1, limits: { vip: 1 }, groupFifo: false };
        const claim = async (limit: number) => (await store.jobsClaim({ queue: 'q', limit, leaseMs: 1000, now: T, concurrency })).map((j) => j.id);
        assert.deepEqual(await claim(2), [jobId(1), jobId(102)], 'vip: its first; then a\'s first in claim order, 99 held jobs later');
        assert.deepEqual(await claim(5), [jobId(103)], 'vip and a at their limits: only the job without a key');
        assert.deepEqual(await claim(5), []);
      }));

    it('an empty or unknown queue gives nothing', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.deepEqual(await store.jobsClaim({ queue: 'nowhere', limit: 5, leaseMs: 1000, now: T }), []);
        assert.equal(await store.queueGet('nowhere'), null, 'a claim creates no queue');
      }));
  });
}
