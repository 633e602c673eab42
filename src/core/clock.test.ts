import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from './clock.ts';

test('a manual clock fires due timers in time order and only when moved', async () => {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  clock.setTimeout(() => void fired.push('b@300'), 300);
  clock.setTimeout(() => void fired.push('a@100'), 100);
  const c = clock.setTimeout(() => void fired.push('cancelled'), 200);
  clock.clearTimeout(c);
  await clock.advance(99);
  assert.deepEqual(fired, []);
  await clock.advance(201);
  assert.deepEqual(fired, ['a@100', 'b@300']);
  assert.equal(clock.now(), 1300);
});

test('timers set by timers fire in the same advance when due', async () => {
  const clock = new ManualClock(0);
  const at: number[] = [];
  const tick = () => {
    at.push(clock.now());
    if (at.length < 3) clock.setTimeout(tick, 10);
  };
  clock.setTimeout(tick, 10);
  await clock.advance(100);
  assert.deepEqual(at, [10, 20, 30]);
});
