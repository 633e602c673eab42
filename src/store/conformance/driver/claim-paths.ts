import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobOrder } from '../../../core/queue-config.ts';
import { keyBucketName, type KeyRateRule, type RateBucket } from '../../rate-bucket.ts';
import type { ClaimParams, Store } from '../../store.ts';
import { jobId, newRow, T, withStore, type DriverContext } from './harness.ts';

/** Each key: one token a second, one at most. */
const KEY_RATE: KeyRateRule = { limit: { rate: 1, perMs: 1000, burst: 1 }, limits: {} };
/** The queue's bucket: one token a second, `burst` at most. */
const bucket = (burst: number): RateBucket => ({ name: 'queue:q', rate: 1, perMs: 1000, burst });

/**
 * The claim paths of a store: the plain claim, by sort key, per-key limits that cannot bind (the
 * plain claim's shortcut), per-key limits that may (the windowed pick), and group FIFO (the full
 * read). `limited`: whether a key's active job holds its other jobs back.
 */
const PATHS: { name: string; more: Partial<ClaimParams>; order?: JobOrder; limited: boolean }[] = [
  { name: 'plain', more: {}, limited: false },
  { name: 'by sort key', more: { byKey: true }, order: { policy: 'priority', agingMs: 0 }, limited: false },
  { name: 'per-key limits that cannot bind', more: { concurrency: { limit: 1000, limits: {}, groupFifo: false } }, limited: false },
  { name: 'per-key limits (windowed)', more: { concurrency: { limit: 1, limits: {}, groupFifo: false } }, limited: true },
  { name: 'group FIFO', more: { concurrency: { limit: 1, limits: {}, groupFifo: true } }, limited: true },
];

/**
 * Jobs 1–6 in claim order: 1 key a, requires gpu · 2 key a · 3 key a · 4 key b · 5 no key ·
 * 6 key b, requires gpu.
 */
async function fill(store: Store, order: JobOrder | undefined): Promise<void> {
  const spec: [string | null, string | null][] = [['a', 'gpu'], ['a', null], ['a', null], ['b', null], [null, null], ['b', 'gpu']];
  await store.jobsInsertMany(spec.map(([key, requires], i) => newRow(i + 1, { concurrencyKey: key, requires, ...(order ? { order } : {}) })));
}

async function claim(store: Store, now: number, more: Partial<ClaimParams>): Promise<{ n: number[]; heldUntil: number | undefined }> {
  const jobs = await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 60_000, now, ...more });
  return { n: jobs.map((j) => (j.payload as { n: number }).n).sort((x, y) => x - y), heldUntil: jobs.heldUntil };
}

const done = (store: Store, ns: number[], now: number) => store.jobsComplete(ns.map((n) => ({ lease: { jobId: jobId(n), token: 1 }, result: null })), now);

/** Every claim path honours, together: the worker's resource tags, the queue's rate limit, per-key concurrency and group FIFO, and per-key rate limits. */
export function claimPathsArea(ctx: DriverContext): void {
  const skip = ctx.skip('rate-limits');
  describe('claim paths, every limit together', () => {
    for (const path of PATHS) {
      it(`${path.name}: tags and the queue's bucket; jobs a claim cannot take take no token`, { skip }, () =>
        withStore(ctx, async (store) => {
          await fill(store, path.order);
          const more = { ...path.more, rate: bucket(2) };
          // Tagless: jobs 1 and 6 are passed over; two tokens, so two jobs, and held until the next.
          assert.deepEqual(await claim(store, T, more), { n: path.limited ? [2, 4] : [2, 3], heldUntil: T + 1000 });
          assert.equal((await store.rateLimitRead({ ...bucket(2), now: T })).tokens, 0, 'exactly the jobs leased were charged');
          assert.deepEqual(await claim(store, T + 999, { ...more, tags: ['gpu'] }), { n: [], heldUntil: T + 1000 });
          assert.deepEqual(await claim(store, T + 1000, { ...more, tags: ['gpu'] }), { n: [path.limited ? 5 : 1], heldUntil: T + 2000 },
            path.limited ? "a's and b's active jobs hold 1, 3 and 6 back" : 'the first job in claim order, gpu now covered');
        }));

      it(`${path.name}: per-key rate limits (never the plain shortcut), with tags and the queue's bucket`, { skip }, () =>
        withStore(ctx, async (store) => {
          await fill(store, path.order);
          const more = { ...path.more, keyRate: KEY_RATE, rate: bucket(10) };
          // Tagless: a's one token goes to 2 (1 is not this claim's), b's to 4; 3 waits for a's next token
          // (or, under a concurrency limit of 1, for 2 to end: then nothing waits for tokens alone).
          assert.deepEqual(await claim(store, T, more), { n: [2, 4, 5], heldUntil: path.limited ? undefined : T + 1000 });
          assert.equal((await store.rateLimitRead({ ...bucket(10), now: T })).tokens, 7, 'the queue bucket charged for the three');
          const key = (k: string, now: number) => store.rateLimitRead({ name: keyBucketName('q', k), ...KEY_RATE.limit!, now });
          assert.deepEqual([(await key('a', T)).tokens, (await key('b', T)).tokens], [0, 0]);
          assert.deepEqual(await claim(store, T, { ...more, tags: ['gpu'] }), { n: [], heldUntil: path.limited ? undefined : T + 1000 },
            path.limited ? 'a and b are at their concurrency limits: nothing waits for tokens alone' : 'a and b have no token');
          await done(store, [2, 4], T);
          assert.deepEqual(await claim(store, T + 1000, { ...more, tags: ['gpu'] }), { n: [1, 6], heldUntil: path.limited ? undefined : T + 2000 },
            'one token each: a to 1 (first in claim order), b to 6');
          assert.deepEqual([(await key('a', T + 1000)).tokens, (await key('b', T + 1000)).tokens], [0, 0]);
        }));
    }

    it('group FIFO with per-key rate limits and tags: a group\'s first job waits for its key\'s token, and holds its group', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([
          newRow(1, { group: 'g', concurrencyKey: 'a' }), newRow(2, { group: 'g', concurrencyKey: 'b' }),
          newRow(3, { group: 'h', concurrencyKey: 'a' }), newRow(4, { group: 'h', concurrencyKey: 'b', requires: 'gpu' }),
        ]);
        const more = { concurrency: { limit: null, limits: {}, groupFifo: true }, keyRate: KEY_RATE };
        assert.deepEqual(await claim(store, T, more), { n: [1], heldUntil: T + 1000 }, "g's first takes a's token; h's first (3, key a) waits for the next");
        await done(store, [1], T);
        assert.deepEqual(await claim(store, T + 1000, more), { n: [2, 3], heldUntil: undefined });
        await done(store, [2, 3], T + 1000);
        assert.deepEqual(await claim(store, T + 5000, more), { n: [], heldUntil: undefined }, "h's first requires gpu");
        assert.deepEqual(await claim(store, T + 5000, { ...more, tags: ['gpu'] }), { n: [4], heldUntil: undefined });
      }));
  });
}
