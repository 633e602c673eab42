import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyBucketName, type KeyRateRule, type RateBucket } from '../../rate-bucket.ts';
import type { ClaimParams, Store } from '../../store.ts';
import { getJob, jobId, newRow, T, withData, withStore, type DriverContext } from './harness.ts';

/** 2 tokens a second, 3 at most: a token every 500 ms. */
const B: RateBucket = { name: 'queue:q', rate: 2, perMs: 1000, burst: 3 };

/** `count` ready jobs of queue `q` (ids from `from`), each with the key `key(i)`. */
async function fill(store: Store, count: number, from = 1, key: (i: number) => string | null = () => null): Promise<void> {
  await store.jobsInsertMany(Array.from({ length: count }, (_, i) => newRow(from + i, { concurrencyKey: key(i) })));
}

/** A claim of queue q under `rate` (and more): the jobs' numbers and `heldUntil`. */
async function claim(store: Store, now: number, limit: number, more: Partial<ClaimParams> = { rate: B }): Promise<{ n: number[]; heldUntil: number | undefined }> {
  const jobs = await store.jobsClaim({ queue: 'q', limit, leaseMs: 60_000, now, ...more });
  return { n: jobs.map((j) => (j.payload as { n: number }).n), heldUntil: jobs.heldUntil };
}

/** Rate limits in the claim: a bucket's tokens read and taken in the claim's own transaction, per queue and per key. */
export function rateLimitsArea(ctx: DriverContext): void {
  describe('rate limits', () => {
    it('a bucket never used starts full; a claim leases at most its whole tokens, takes one per job leased, and says when the next is due', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        await fill(store, 10);
        assert.equal((await store.rateLimitRead({ ...B, now: T })).tokens, 3, 'a read takes nothing');
        assert.deepEqual(await claim(store, T, 5), { n: [1, 2, 3], heldUntil: T + 500 });
        assert.deepEqual(await claim(store, T + 499, 5), { n: [], heldUntil: T + 500 });
        assert.deepEqual(await claim(store, T + 500, 5), { n: [4], heldUntil: T + 1000 });
        // 750 ms later: 1.5 tokens, one taken, half a token left: the next is due in 250 ms.
        assert.deepEqual(await claim(store, T + 1250, 5), { n: [5], heldUntil: T + 1500 });
        assert.equal((await getJob(store, jobId(6))).state, 'ready');
        assert.equal((await getJob(store, jobId(6))).attempt, 0, 'a job held back counts no attempt');
        assert.deepEqual((await store.rateLimitRead({ ...B, now: T + 1_000_000 })).tokens, 3, 'refilled up to burst, no more');
        assert.deepEqual(await claim(store, T + 1_000_000, 2), { n: [6, 7], heldUntil: undefined }, 'not held: it got all it asked');
      }));

    it('a claim that finds fewer jobs than tokens takes only what it leased; an empty queue takes none', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        await fill(store, 1);
        assert.deepEqual(await claim(store, T, 5), { n: [1], heldUntil: undefined });
        assert.equal((await store.rateLimitRead({ ...B, now: T })).tokens, 2);
        assert.deepEqual(await claim(store, T, 5), { n: [], heldUntil: undefined });
        assert.equal((await store.rateLimitRead({ ...B, now: T })).tokens, 2);
        assert.equal((await store.rateLimitRead({ ...B, name: 'queue:other', now: T })).tokens, 3, 'buckets are kept by name');
      }));

    it('every claim path takes its tokens: by sort key (and the fifo rest), under per-key concurrency', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        await fill(store, 5, 1, (i) => (i < 3 ? 'a' : 'b'));
        assert.deepEqual(await claim(store, T, 5, { rate: B, byKey: true }), { n: [1, 2, 3], heldUntil: T + 500 });
        const concurrency = { limit: 1, limits: {}, groupFifo: false };
        assert.deepEqual(await claim(store, T + 500, 5, { rate: B, concurrency }), { n: [4], heldUntil: T + 1000 }, 'a is past its concurrency limit; b takes the one token');
        assert.equal((await store.rateLimitRead({ ...B, now: T + 500 })).tokens, 0);
      }));

    it('new parameters convert what the bucket holds to whole tokens, at most the new burst', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        await fill(store, 20);
        assert.equal((await claim(store, T, 1)).n.length, 1); // 2 left; 2.5 at T + 250, the half lost in a conversion
        const wider = { ...B, rate: 10, perMs: 60_000, burst: 10 };
        assert.deepEqual(await claim(store, T + 250, 5, { rate: wider }), { n: [2, 3], heldUntil: T + 250 + 6000 });
        const narrow = { ...B, rate: 1, perMs: 1000, burst: 1 };
        assert.equal((await store.rateLimitRead({ ...narrow, now: T + 1_000_000 })).tokens, 1, 'capped at the new burst');
        assert.deepEqual(await claim(store, T + 1_000_000, 5, { rate: narrow }), { n: [4], heldUntil: T + 1_001_000 });
        assert.deepEqual(await claim(store, T + 500_000, 5, { rate: narrow }), { n: [], heldUntil: T + 1_001_000 }, 'a clock behind the bucket adds nothing');
      }));

    it('concurrent claims never lease more than the bucket holds', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        await fill(store, 60);
        const big = { ...B, rate: 1, perMs: 60_000, burst: 20 };
        const got = await Promise.all(Array.from({ length: 30 }, (_, i) => claim(store, T, 1 + (i % 2), { rate: big })));
        assert.equal(got.reduce((n, g) => n + g.n.length, 0), 20);
        assert.equal(new Set(got.flatMap((g) => g.n)).size, 20);
      }));

    it('stores on the same data share the buckets: their concurrent claims together never exceed them', { skip: ctx.skip('rate-limits', 'shared') }, () =>
      withData(ctx, async (d) => {
        const [a, b] = [await d.open(), await d.open()];
        await fill(a, 60);
        const big = { ...B, rate: 1, perMs: 60_000, burst: 25 };
        await claim(a, T, 1, { rate: { ...big, name: 'queue:warm' } }); // both stores past their first statement
        const got = await Promise.all(Array.from({ length: 40 }, (_, i) => claim(i % 2 === 0 ? a : b, T + i, 1, { rate: big })));
        assert.equal(got.reduce((n, g) => n + g.n.length, 0), 25);
        assert.equal((await b.rateLimitRead({ ...big, now: T + 60 })).tokens, 0);
      }));

    const keyRate: KeyRateRule = { limit: { rate: 1, perMs: 1000, burst: 2 }, limits: { b: { rate: 1, perMs: 1000, burst: 1 } } };

    it('per-key buckets: a key without a whole token is passed over (its jobs stay ready), other keys are taken, each leased job charges its key', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        await fill(store, 10, 1, (i) => (i < 4 ? 'a' : i < 8 ? 'b' : null));
        assert.deepEqual(await claim(store, T, 100, { keyRate }), { n: [1, 2, 5, 9, 10], heldUntil: T + 1000 },
          'a: its burst of 2; b: its own burst of 1; no key: not limited; held until the next token of a or b');
        const bucket = (key: string, now: number) => store.rateLimitRead({ name: keyBucketName('q', key), rate: 1, perMs: 1000, burst: key === 'b' ? 1 : 2, now });
        assert.equal((await bucket('a', T)).tokens, 0);
        assert.equal((await getJob(store, jobId(3))).state, 'ready');
        assert.equal((await getJob(store, jobId(3))).attempt, 0, 'no attempt counted');
        assert.deepEqual(await claim(store, T + 999, 100, { keyRate }), { n: [], heldUntil: T + 1000 });
        assert.deepEqual(await claim(store, T + 1000, 1, { keyRate }), { n: [3], heldUntil: undefined }, 'it got what it asked: not held');
        assert.deepEqual(await claim(store, T + 1000, 100, { keyRate }), { n: [6], heldUntil: T + 2000 });
        assert.deepEqual(await claim(store, T + 1500, 100, { keyRate, byKey: true }), { n: [], heldUntil: T + 2000 }, 'by sort key alike');
        assert.equal((await bucket('a', T + 2000)).tokens, 1);
        // Full buckets are what no row is: upkeep may drop them; others stay.
        assert.deepEqual(await store.rateLimitsDropFull({ now: T + 2000, after: '', limit: 10 }), { deleted: 1, next: null }, "b is full again (burst 1), a is not");
        assert.deepEqual(await store.rateLimitsDropFull({ now: T + 1_000_000, after: '', limit: 1 }), { deleted: 1, next: keyBucketName('q', 'a') });
        assert.deepEqual(await store.rateLimitsDropFull({ now: T + 1_000_000, after: keyBucketName('q', 'a'), limit: 1 }), { deleted: 0, next: null });
        assert.deepEqual(await claim(store, T + 1_000_000, 100, { keyRate }), { n: [4, 7], heldUntil: T + 1_001_000 }, 'a dropped bucket is full again');
      }));

    it('per-key buckets with per-key concurrency and a queue bucket: jobs left for their concurrency limit are not held; the queue bucket bounds the batch', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        await fill(store, 6, 1, (i) => (i < 3 ? 'a' : 'c'));
        const concurrency = { limit: 1, limits: {}, groupFifo: false };
        assert.deepEqual(await claim(store, T, 100, { keyRate, concurrency }), { n: [1, 4], heldUntil: undefined });
        assert.deepEqual(await claim(store, T, 100, { keyRate, rate: { ...B, burst: 1 } }), { n: [2], heldUntil: T + 500 }, 'one queue token');
      }));
  });
}
