import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, percentileOfSorted, sortedAscending, summarize } from './stats.ts';

test('median of an odd and an even count', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('summarize gives median, min and max', () => {
  assert.deepEqual(summarize([41_000, 39_500, 40_200]), { median: 40_200, min: 39_500, max: 41_000 });
});

test('sortedAscending sorts numerically, not as strings', () => {
  assert.deepEqual([...sortedAscending([10, 9, 100, 1])], [1, 9, 10, 100]);
});

test('percentiles by nearest rank', () => {
  const sorted = sortedAscending(Array.from({ length: 10_000 }, (_, i) => i + 1)); // 1 … 10,000
  assert.equal(percentileOfSorted(sorted, 50), 5_000);
  assert.equal(percentileOfSorted(sorted, 99), 9_900);
  assert.equal(percentileOfSorted(sorted, 100), 10_000);
  assert.equal(percentileOfSorted(sortedAscending([7]), 99), 7);
});

test('empty input and bad percentiles are refused', () => {
  assert.throws(() => median([]), RangeError);
  assert.throws(() => percentileOfSorted(new Float64Array(0), 50), RangeError);
  assert.throws(() => percentileOfSorted(sortedAscending([1]), 0), RangeError);
  assert.throws(() => percentileOfSorted(sortedAscending([1]), 101), RangeError);
});
