import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LIMITS } from '../core/limits.ts';
import { fullBucket, take, type RateBucket, type RateBucketRow } from './rate-bucket.ts';

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

test('property: over any window of perMs the takes get at most rate + burst tokens', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5000 }),
      // Steps in the same instant, a little later, or long enough to fill the bucket again.
      fc.array(fc.record({
        dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 }), fc.constant(10_000_000)),
        want: fc.integer({ min: 0, max: 60 }),
      }), { maxLength: 80 }),
      (rate, burst, perMs, steps) => {
        const b: RateBucket = { name: 'x', rate, perMs, burst };
        let row: RateBucketRow = fullBucket(b, T);
        let now = T;
        const got: [number, number][] = [];
        for (const s of steps) {
          now += s.dt;
          const r = take(row, b, s.want, now);
          row = r.row;
          got.push([now, r.taken.taken]);
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
