import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LIMITS } from '../core/limits.ts';
import { fullBucket, giveBack, take, type RateBucket, type RateBucketRow } from './rate-bucket.ts';

const T = 1_700_000_000_000;

test('at the largest bounds every value stays an exact integer', () => {
  const b: RateBucket = { name: 'x', rate: LIMITS.rateLimitRate.max, perMs: LIMITS.rateLimitPerMs.max, burst: LIMITS.rateLimitBurst.max };
  let row = take(fullBucket(b, T), b, b.burst, T).row;
  assert.equal(row.units, 0);
  for (const elapsed of [1, 1000, 86_400_000, 10 * 365 * 86_400_000]) {
    const r = take(row, b, 1, T + elapsed);
    assert.ok(Number.isSafeInteger(r.row.units) && r.row.units <= b.burst * b.perMs, `after ${elapsed} ms: ${r.row.units}`);
    row = r.row;
  }
});

test('property: over any window of perMs the takes get at most rate + burst tokens, given back or not', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5000 }),
      // Steps in the same instant, a little later, or long enough to fill the bucket again.
      fc.array(fc.record({
        dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 }), fc.constant(10_000_000)),
        want: fc.integer({ min: 0, max: 60 }),
        unused: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60 })),
      }), { maxLength: 80 }),
      (rate, burst, perMs, steps) => {
        const b: RateBucket = { name: 'x', rate, perMs, burst };
        let row: RateBucketRow = fullBucket(b, T);
        let now = T;
        const got: [number, number][] = [];
        // A claim's unused tokens come back after the next take (its give-back is not awaited, so
        // another claim may take, and refill the bucket, in between).
        let pending: { count: number; since: number } | null = null;
        for (const s of steps) {
          now += s.dt;
          const r = take(row, b, s.want, now);
          row = r.row;
          if (pending) row = giveBack(row, b, pending.count, pending.since) ?? row;
          const unused = Math.min(s.unused, r.taken.taken);
          got.push([now, r.taken.taken - unused]);
          pending = unused > 0 ? { count: unused, since: r.taken.at } : null;
          assert.ok(r.taken.nextAt >= now);
        }
        for (const [start] of got) {
          const n = got.filter(([t]) => t >= start && t <= start + perMs).reduce((a, [, k]) => a + k, 0);
          assert.ok(n <= rate + burst, `${n} tokens used within ${perMs} ms of ${start}`);
        }
      },
    ),
    { numRuns: 500 },
  );
});
