import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cannotBind, firstWindow, nextWindow, pickFromWindow, WINDOW_MAX, type WindowRow } from './concurrency-claim.ts';

const rule = (limit: number | null, limits: Record<string, number> = {}, groupFifo = false) => ({ limit, limits, groupFifo });
const ready = (id: string, ck: string | null, ok = 1): WindowRow => ({ id, ck, ok, busy: 0 });
const busy = (ck: string, n: number): WindowRow => ({ id: null, ck, ok: 0, busy: n });

test('cannotBind: every limit at least the active jobs plus the claim; never under group FIFO', () => {
  assert.equal(cannotBind(rule(5), 2, 3), true);
  assert.equal(cannotBind(rule(5), 3, 3), false);
  assert.equal(cannotBind(rule(1000, { small: 4 }), 0, 5), false, 'a named key with a smaller limit');
  assert.equal(cannotBind(rule(null, { a: 10 }), 4, 6), true, 'keys not named are unlimited');
  assert.equal(cannotBind(rule(1000, {}, true), 0, 1), false);
});

test('pickFromWindow: in window order, each key within its limit counting its active jobs, at most the claim', () => {
  const rows = [busy('a', 1), ready('1', 'a'), ready('2', 'a'), ready('3', 'b'), ready('4', null), ready('5', 'b', 0), ready('6', 'b'), ready('7', 'constructor')];
  assert.deepEqual(pickFromWindow(rows, rule(2, { b: 1 }), 10), { ids: ['1', '3', '4', '7'], read: 7, short: new Set() });
  assert.deepEqual(pickFromWindow(rows, rule(2, { b: 1 }), 2), { ids: ['1', '3'], read: 7, short: new Set() });
  assert.deepEqual(pickFromWindow(rows, rule(null, { a: 1 }), 10).ids, ['3', '4', '6', '7'], 'a is at its limit already; b is unlimited; an ineligible job is never taken');
});

test('pickFromWindow under per-key rate limits: a key takes at most its whole tokens; keys passed over only for tokens are short', () => {
  const rows = [busy('a', 1), ready('1', 'a'), ready('2', 'a'), ready('3', 'b'), ready('4', 'b'), ready('5', 'c'), ready('6', null), ready('7', 'b')];
  const tokens = (key: string): number | null => ({ a: 5, b: 1, c: 0 } as Record<string, number>)[key] ?? null;
  // a: its concurrency limit (2, one active) holds 2 back, not its tokens; b: one token; c: none; the unkeyed job is not limited.
  assert.deepEqual(pickFromWindow(rows, rule(2), 10, tokens), { ids: ['1', '3', '6'], read: 7, short: new Set(['b', 'c']) });
  assert.deepEqual(pickFromWindow(rows, rule(null), 10, tokens), { ids: ['1', '2', '3', '6'], read: 7, short: new Set(['b', 'c']) });
  assert.deepEqual(pickFromWindow(rows, rule(null), 10, () => null).ids, ['1', '2', '3', '4', '5', '6', '7'], 'no key limited');
  assert.deepEqual(pickFromWindow(rows, rule(null), 1, tokens), { ids: ['1'], read: 7, short: new Set() }, 'the claim was full before any key ran short');
});

test('nextWindow: done once the claim is full or the window held every ready job; else eight times larger, up to the largest', () => {
  assert.equal(firstWindow(1), 32);
  assert.equal(firstWindow(64), 128);
  assert.equal(nextWindow(128, 128, 64, 64), null, 'full');
  assert.equal(nextWindow(128, 100, 3, 64), null, 'every ready job read');
  assert.equal(nextWindow(128, 128, 3, 64), 1024);
  assert.equal(nextWindow(2 ** 30, 2 ** 30, 0, 64), WINDOW_MAX);
  assert.equal(nextWindow(WINDOW_MAX, WINDOW_MAX, 0, 64), null);
});
