import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, sortedAscending, summarize } from './stats.ts';

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

test('empty input is refused', () => {
  assert.throws(() => median([]), RangeError);
  assert.throws(() => summarize([]), RangeError);
});
