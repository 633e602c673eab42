import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WindowRow } from './concurrency-claim.ts';
import { KeyTokens } from './key-rate-claim.ts';
import { keyBucketName } from './rate-bucket.ts';

const T = 1_000_000;
const ready = (id: string, ck: string | null): WindowRow => ({ id, ck, ok: 1, busy: 0 });

test('KeyTokens: reads only limited keys once; a key without a row is full; heldUntil is the next token after the charge', () => {
  // a: the default (1 a second, burst 2); b: its own (2 a second, burst 1); c named with no limit of its own is the default too.
  const keys = new KeyTokens('q', { limit: { rate: 1, perMs: 1000, burst: 2 }, limits: { b: { rate: 2, perMs: 1000, burst: 1 } } }, T);
  const rows = [ready('1', 'a'), ready('2', 'b'), ready('3', null), ready('4', 'a')];
  assert.deepEqual([...keys.unread(rows)], [[keyBucketName('q', 'a'), 'a'], [keyBucketName('q', 'b'), 'b']]);
  keys.add('a', { units: 1500, updatedAt: T - 500, rate: 1, perMs: 1000, burst: 2 }); // 1.5 tokens + 0.5 refilled: 2
  keys.add('b', null);
  assert.deepEqual(keys.unread(rows).size, 0, 'read once');
  assert.deepEqual([keys.tokens('a'), keys.tokens('b'), keys.tokens('zz')], [2, 1, null]);
  // a leased 2 of its 2 tokens: its next whole one is 1000 ms away; b leased 1: 500 ms.
  assert.equal(keys.heldUntil(new Set(['a', 'b']), ['a', 'a', 'b', null]), T + 500);
  assert.equal(keys.heldUntil(new Set(['a']), ['a', 'a']), T + 1000);
  assert.equal(keys.heldUntil(new Set(), ['a']), null, 'no key short: not held');

  const unlimited = new KeyTokens('q', { limit: null, limits: { b: { rate: 1, perMs: 1000, burst: 1 } } }, T);
  assert.deepEqual([...unlimited.unread(rows).values()], ['b'], 'keys neither named nor under a default are not read');
});
