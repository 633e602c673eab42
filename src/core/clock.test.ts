import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clockOffsetMs, clockStepWatch, ManualClock, maxClockOffsetMs, steadyTime, systemClock, timerDelayMs, TIMER_MAX_MS } from './clock.ts';

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

/** A wall clock and a monotonic clock that move only when told to; `read` is steady time over them. */
function fakeClocks(start = Date.parse('2026-01-01T00:00:00Z')) {
  const c = { wall: start, mono: 1_000 };
  const steady = steadyTime(() => c.wall, () => c.mono);
  /** Both clocks move by `ms` in steps of `stepMs`; returns steady time after each step. */
  const run = (ms: number, stepMs = 10) => {
    const readings: number[] = [];
    for (let done = 0; done < ms; done += stepMs) {
      c.wall += stepMs;
      c.mono += stepMs;
      readings.push(steady.now());
    }
    return readings;
  };
  return { c, steady, run };
}

/** Asserts that `readings` (one per `stepMs` of monotonic time) never decrease and advance at `min`–`max` of the monotonic rate. */
function assertRate(readings: number[], stepMs: number, min: number, max: number) {
  for (let i = 1; i < readings.length; i++) {
    assert.ok(readings[i]! >= readings[i - 1]!, `went backwards at ${i}: ${readings[i - 1]} → ${readings[i]}`);
  }
  // Over every window of 1 s (readings are whole ms, so a window absorbs the rounding).
  const w = 1000 / stepMs;
  for (let i = w; i < readings.length; i += w) {
    const rate = (readings[i]! - readings[i - w]!) / 1000;
    assert.ok(rate >= min - 0.002 && rate <= max + 0.002, `ran at ${rate}× the monotonic rate at ${i}`);
  }
}

test('steady time is the wall clock while the wall clock is not stepped', () => {
  const { c, steady, run } = fakeClocks();
  assert.equal(steady.now(), c.wall);
  for (let i = 0; i < 1000; i++) {
    const stepMs = (i % 13) + 1;
    c.wall += stepMs;
    c.mono += stepMs;
    assert.equal(steady.now(), c.wall);
  }
  run(10_000);
  assert.equal(steady.now(), c.wall);
  assert.equal(steady.offsetMs(), 0);
  assert.equal(steady.maxOffsetMs(), 0);
  // Read many times within one millisecond, and with the monotonic clock in fractions of one.
  for (let i = 0; i < 1000; i++) {
    c.mono += 0.001;
    if (i % 1000 === 999) c.wall += 1;
    assert.ok(Math.abs(steady.now() - c.wall) <= 1);
  }
});

test('a forward step of the wall clock is caught up at most 10 % fast, then followed', () => {
  const { c, steady, run } = fakeClocks();
  run(1000);
  const before = steady.now();
  c.wall += 60_000;
  const readings = run(600_000);
  assertRate([before, ...readings], 10, 1, 1.1);
  assert.ok(readings[0]! - before <= 11, 'no jump');
  assert.equal(readings[99]! - before, 1100, 'a second after the step, 1.1 s has passed');
  // 60 s caught up at 0.1 ms per ms: 600 s of monotonic time.
  assert.equal(steady.now(), c.wall);
  assert.equal(steady.offsetMs(), 0);
  assert.ok(Math.abs(steady.maxOffsetMs() - 60_000) <= 1, `max offset ${steady.maxOffsetMs()}`);
  assertRate(run(10_000), 10, 1, 1);
});

test('a backward step of the wall clock is caught up at most 10 % slow, never going backwards', () => {
  const { c, steady, run } = fakeClocks();
  run(1000);
  const before = steady.now();
  c.wall -= 60_000;
  assert.ok(steady.now() >= before);
  assert.ok(steady.offsetMs() <= -59_999);
  const readings = run(600_000);
  assertRate([before, ...readings], 10, 0.9, 1);
  assert.equal(steady.now(), c.wall);
  assertRate(run(10_000), 10, 1, 1);
});

test('steady time never goes backwards when the wall clock stands still or keeps being stepped back', () => {
  const { c, steady } = fakeClocks();
  let prev = steady.now();
  const start = prev;
  for (let i = 0; i < 100_000; i++) {
    c.mono += 1;
    if (i % 1000 === 0) c.wall -= 5_000; // stepped back every second, and frozen in between
    const t = steady.now();
    assert.ok(t >= prev, `went backwards at ${i}: ${prev} → ${t}`);
    prev = t;
  }
  // 100 s of monotonic time at no less than 90 %.
  assert.ok(prev - start >= 90_000 - 1, `advanced ${prev - start} ms`);
  assert.ok(prev - start <= 100_000);
});

test('a step in the middle of a long pause between readings is caught up in proportion to the pause', () => {
  const { c, steady } = fakeClocks();
  const before = steady.now();
  c.mono += 10_000;
  c.wall += 10_000 + 5_000;
  // 10 s passed: up to 1 s of the 5 s step is taken, no more.
  assert.equal(steady.now(), before + 11_000);
  c.mono += 40_000;
  c.wall += 40_000;
  assert.equal(steady.now(), c.wall);
});

test('the system clock is the wall clock, steady: within a few ms of Date.now() and never decreasing', async () => {
  // Reading one clock and then the other can be preempted in between (a loaded machine: ~10 ms),
  // so single gaps are allowed a scheduling slice; typical ones must be a millisecond or so.
  const gaps: number[] = [];
  let prev = systemClock.now();
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 20_000; i++) {
      const t = systemClock.now();
      assert.ok(t >= prev, `went backwards: ${prev} → ${t}`);
      prev = t;
      if (i % 1000 === 0) gaps.push(Math.abs(Date.now() - systemClock.now()));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  gaps.sort((a, b) => a - b);
  assert.ok(gaps[Math.floor(gaps.length / 2)]! <= 2, `median gap ${gaps[Math.floor(gaps.length / 2)]} ms`);
  assert.ok(gaps.at(-1)! <= 50, `largest gap ${gaps.at(-1)} ms`);
  assert.ok(Math.abs(clockOffsetMs()) <= 50, `offset ${clockOffsetMs()}`);
  assert.ok(maxClockOffsetMs() <= 50, `max offset ${maxClockOffsetMs()}`);
  assert.ok(Number.isInteger(systemClock.now()));
});

test('a step of the clock is noticed once, past a second, and again only after it was caught up', () => {
  let offset = 0;
  const watch = clockStepWatch(1000, () => offset);
  assert.equal(watch(), null);
  offset = 999;
  assert.equal(watch(), null);
  offset = 60_000;
  assert.equal(watch(), 60_000);
  for (offset = 59_000; offset > 1000; offset -= 1000) assert.equal(watch(), null, `again at ${offset}`);
  offset = 500;
  assert.equal(watch(), null);
  offset = -5000;
  assert.equal(watch(), -5000, 'a new step, backwards');
  assert.equal(watch(), null);
});
