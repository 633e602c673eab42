import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RateBucket, RateTaken } from '../../rate-bucket.ts';
import { T, withData, withStore, type DriverContext } from './harness.ts';

/** 2 tokens a second, 3 at most: a token every 500 ms. */
const B: RateBucket = { name: 'queue:q', rate: 2, perMs: 1000, burst: 3 };
/** What a take or read said, without its `at` (the bucket's time, checked where it matters). */
const noAt = ({ at: _at, ...rest }: RateTaken): Omit<RateTaken, 'at'> => rest;

/** The token buckets of rate limits: take, refill, give back, parameter changes, concurrent takes. */
export function rateLimitsArea(ctx: DriverContext): void {
  describe('rate limits', () => {
    it('a bucket never used starts full; a take gets at most what it holds and says when the next token is due', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        assert.deepEqual(noAt(await store.rateLimitRead({ ...B, now: T })), { taken: 0, tokens: 3, nextAt: T }, 'a read takes nothing and makes nothing');
        assert.deepEqual(noAt(await store.rateLimitTake({ ...B, want: 5, now: T })), { taken: 3, tokens: 0, nextAt: T + 500 });
        assert.deepEqual(noAt(await store.rateLimitTake({ ...B, want: 1, now: T + 499 })), { taken: 0, tokens: 0, nextAt: T + 500 });
        assert.deepEqual(noAt(await store.rateLimitTake({ ...B, want: 5, now: T + 500 })), { taken: 1, tokens: 0, nextAt: T + 1000 });
        // 750 ms later: 1.5 tokens, one taken, half a token left: the next is due in 250 ms.
        assert.deepEqual(noAt(await store.rateLimitTake({ ...B, want: 5, now: T + 1250 })), { taken: 1, tokens: 0, nextAt: T + 1500 });
        assert.deepEqual(noAt(await store.rateLimitRead({ ...B, now: T + 1_000_000 })), { taken: 0, tokens: 3, nextAt: T + 1_000_000 }, 'refilled up to burst, no more');
        assert.deepEqual(noAt(await store.rateLimitTake({ ...B, want: 2, now: T + 1_000_000 })), { taken: 2, tokens: 1, nextAt: T + 1_000_000 });
      }));

    it('buckets are kept by name: a take from one leaves the others', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        assert.equal((await store.rateLimitTake({ ...B, want: 3, now: T })).taken, 3);
        assert.equal((await store.rateLimitTake({ ...B, name: 'limiter:smtp', want: 3, now: T })).taken, 3);
        assert.equal((await store.rateLimitTake({ ...B, name: 'queue:other', want: 1, now: T })).taken, 1);
        assert.equal((await store.rateLimitTake({ ...B, want: 1, now: T })).taken, 0);
      }));

    it('tokens given back return up to the bucket size; a bucket whose parameters changed keeps what it has', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        const first = await store.rateLimitTake({ ...B, want: 3, now: T });
        assert.equal(first.at, T);
        await store.rateLimitGiveBack({ ...B, count: 2, since: first.at });
        assert.equal((await store.rateLimitRead({ ...B, now: T })).tokens, 2);
        await store.rateLimitGiveBack({ ...B, count: 5, since: first.at });
        assert.equal((await store.rateLimitRead({ ...B, now: T })).tokens, 3, 'never more than burst');
        await store.rateLimitTake({ ...B, want: 3, now: T });
        await store.rateLimitGiveBack({ ...B, rate: 9, count: 3, since: T });
        assert.equal((await store.rateLimitRead({ ...B, now: T })).tokens, 0, 'given back under other parameters: ignored');
        await store.rateLimitGiveBack({ ...B, name: 'queue:never-used', count: 3, since: T });
        assert.deepEqual(await store.rateLimitRead({ ...B, name: 'queue:never-used', now: T }), { taken: 0, tokens: 3, nextAt: T, at: T });
      }));

    it('tokens given back after another take refilled the bucket are dropped: the refill made up for them', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        // Burst 3. A takes all 3 at T and finds no job; before its give-back lands, B takes at
        // T + 10 s, the bucket refilled to 3, and leases them. A's 3 must not come back:
        // with them, 6 jobs would start within a moment, over rate + burst.
        const a = await store.rateLimitTake({ ...B, want: 3, now: T });
        assert.equal((await store.rateLimitTake({ ...B, want: 3, now: T + 10_000 })).taken, 3);
        await store.rateLimitGiveBack({ ...B, count: 3, since: a.at });
        assert.equal((await store.rateLimitRead({ ...B, now: T + 10_000 })).tokens, 0);
        // A take at the same instant refilled nothing: a give-back then still counts.
        const c = await store.rateLimitTake({ ...B, want: 3, now: T + 20_000 });
        assert.equal((await store.rateLimitTake({ ...B, want: 1, now: T + 20_000 })).taken, 0);
        await store.rateLimitGiveBack({ ...B, count: 2, since: c.at });
        assert.equal((await store.rateLimitRead({ ...B, now: T + 20_000 })).tokens, 2);
      }));

    it('new parameters convert what the bucket holds to whole tokens, at most the new burst; time going back refills nothing', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        await store.rateLimitTake({ ...B, want: 1, now: T }); // 2 left
        await store.rateLimitTake({ ...B, want: 0, now: T + 250 }); // 2.5 left: the half token is lost in a conversion
        const wider = { ...B, rate: 10, perMs: 60_000, burst: 10 };
        assert.deepEqual(noAt(await store.rateLimitTake({ ...wider, want: 5, now: T + 250 })), { taken: 2, tokens: 0, nextAt: T + 250 + 6000 });
        const narrow = { ...B, rate: 1, perMs: 1000, burst: 1 };
        await store.rateLimitTake({ ...wider, want: 0, now: T + 1_000_000 }); // full again: 10
        assert.deepEqual(noAt(await store.rateLimitRead({ ...narrow, now: T + 1_000_000 })), { taken: 0, tokens: 1, nextAt: T + 1_000_000 }, 'capped at the new burst');
        assert.equal((await store.rateLimitTake({ ...narrow, want: 1, now: T + 1_000_000 })).taken, 1);
        assert.deepEqual(noAt(await store.rateLimitTake({ ...narrow, want: 1, now: T + 500_000 })), { taken: 0, tokens: 0, nextAt: T + 1_001_000 }, 'a clock behind the bucket adds nothing');
      }));

    it('concurrent takes never hand out a token twice', { skip: ctx.skip('rate-limits') }, () =>
      withStore(ctx, async (store) => {
        const big = { ...B, rate: 1, perMs: 60_000, burst: 20 };
        const takes = await Promise.all(Array.from({ length: 50 }, (_, i) => store.rateLimitTake({ ...big, want: 1 + (i % 2), now: T })));
        assert.equal(takes.reduce((n, t) => n + t.taken, 0), 20);
      }));

    it('stores on the same data share the buckets: their concurrent takes together never exceed them', { skip: ctx.skip('rate-limits', 'shared') }, () =>
      withData(ctx, async (d) => {
        const [a, b] = [await d.open(), await d.open()];
        const big = { ...B, rate: 1, perMs: 60_000, burst: 25 };
        await a.rateLimitRead({ ...big, now: T });
        const takes = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).rateLimitTake({ ...big, want: 1, now: T + i })));
        assert.equal(takes.reduce((n, t) => n + t.taken, 0), 25);
        assert.equal((await b.rateLimitRead({ ...big, now: T + 60 })).tokens, 0);
      }));
  });
}
