import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, systemClock, timerDelayMs, TIMER_MAX_MS } from './clock.ts';

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

test('the system clock never hands Node a delay it would turn into 1 ms', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    let farFired = false;
    // 30 days: past 2³¹−1 ms. Unclamped, Node fires it after 1 ms, before the 50 ms marker below.
    const far = systemClock.setTimeout(() => void (farFired = true), 30 * 24 * 3600 * 1000);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 50));
    systemClock.clearTimeout(far);
    assert.equal(farFired, false, 'a 30-day timer fired at once');
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('timer delays are cut to what Node accepts', () => {
  assert.equal(timerDelayMs(-5), 0);
  assert.equal(timerDelayMs(Number.NaN), 0);
  assert.equal(timerDelayMs(1234), 1234);
  assert.equal(timerDelayMs(10 * 365 * 24 * 3600 * 1000), TIMER_MAX_MS);
  assert.equal(timerDelayMs(Infinity), TIMER_MAX_MS);
});
