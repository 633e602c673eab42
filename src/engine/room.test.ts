import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { Room } from './room.ts';

test('a waiter is woken by room made in its queue, not by another queue', async () => {
  const clock = new ManualClock();
  const room = new Room(clock, 1000);
  let woken = 0;
  const waiting = room.wait('a', 60_000).then(() => woken++);
  room.freed('b');
  await Promise.resolve();
  assert.equal(woken, 0);
  assert.equal(room.waiting, 1);
  room.freed('a');
  await waiting;
  assert.deepEqual([woken, room.waiting], [1, 0]);
});

test('with nothing announced, a waiter looks again after pollMs, or its own shorter wait', async () => {
  const clock = new ManualClock();
  const room = new Room(clock, 1000);
  let polled = false;
  const poll = room.wait('a', 60_000).then(() => (polled = true));
  await clock.advance(999);
  assert.equal(polled, false);
  await clock.advance(1);
  await poll;
  let short = false;
  const shorter = room.wait('a', 200).then(() => (short = true));
  await clock.advance(200);
  await shorter;
  assert.deepEqual([short, room.waiting], [true, 0]);
});
