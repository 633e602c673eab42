import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher } from './batcher.ts';

test('calls made in one tick become one batch, in order, each getting its own result', async () => {
  const batches: number[][] = [];
  const b = new Batcher<number, number>(async (items) => {
    batches.push(items);
    return items.map((x) => x * 10);
  }, 100);
  const results = await Promise.all([1, 2, 3].map((x) => b.push(x)));
  assert.deepEqual(results, [10, 20, 30]);
  assert.deepEqual(batches, [[1, 2, 3]]);
  await b.push(4);
  assert.deepEqual(batches, [[1, 2, 3], [4]]);
});

test('a full batch flushes at once; a failed batch rejects all its callers', async () => {
  const sizes: number[] = [];
  const b = new Batcher<number, number>(async (items) => {
    sizes.push(items.length);
    if (items.includes(13)) throw new Error('unlucky');
    return items;
  }, 2);
  const r = await Promise.allSettled([1, 2, 3, 13].map((x) => b.push(x)));
  assert.deepEqual(sizes, [2, 2]);
  assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected']);
});
