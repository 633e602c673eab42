// The soak's verdicts on synthetic series: each rule must pass what it should and fail what it should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryEvent } from './events.ts';
import { backToNormal, flatness, latencyVerdict, normalBound, p99PerSecond, percentile, quietWindows, slope, type Sample } from './soak-analysis.ts';

const MIN = 60_000;
/** One sample a second for `minutes`, RSS in MB given by `mb(t in minutes)`, fds by `fds(t)`. */
function series(minutes: number, mb: (m: number) => number, fds: (m: number) => number = () => 30): Sample[] {
  return Array.from({ length: minutes * 60 }, (_, i) => ({ at: i * 1000, rssKb: Math.round(mb(i / 60) * 1024), fds: fds(i / 60) }));
}

test('slope: least squares, exact on a line, 0 for too few points', () => {
  assert.equal(slope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }]), 2);
  assert.equal(slope([{ x: 1, y: 1 }]), 0);
  assert.equal(slope([{ x: 1, y: 1 }, { x: 1, y: 5 }]), 0);
});

test('flatness: a warm-up in the first half, then flat with GC noise, passes', () => {
  // 40 → 80 MB over the first 3 minutes, then 80 MB ± 4 MB of sawtooth.
  const s = series(10, (m) => (m < 3 ? 40 + (40 * m) / 3 : 80 + 4 * Math.sin(m * 20)));
  const f = flatness(s, 5 * MIN)!;
  assert.ok(f.ok, f.reasons.join('; '));
  assert.ok(Math.abs(f.rssSlopeMbPerMin) < 1);
});

test('flatness: a collection that gives 20 MB back for a while, and a burst at the end, do not tilt it', () => {
  // As a restarted broker was seen: 147 MB, 128 MB for 25 s early in the judged span, 160 MB in
  // its last 15 s (a least-squares line through the samples rose 4.7 MB/min).
  const f = flatness(series(10, (m) => (m >= 5.5 && m < 5.5 + 25 / 60 ? 128 : m >= 9.75 ? 160 : 147)), 5 * MIN)!;
  assert.ok(f.ok, f.reasons.join('; '));
});

test('flatness: a steady leak of 2 MB/min fails, and says how much', () => {
  const f = flatness(series(10, (m) => 60 + 2 * m), 5 * MIN)!;
  assert.equal(f.ok, false);
  assert.ok(Math.abs(f.rssSlopeMbPerMin - 2) < 0.01);
  assert.match(f.reasons.join(), /RSS grows 2\.00 MB\/min/);
});

test('flatness: a leak of 0.5 MB/min passes the 1 MB/min bound (the bound is what is documented)', () => {
  assert.ok(flatness(series(10, (m) => 60 + 0.5 * m), 5 * MIN)!.ok);
});

test('flatness: fds that creep up by 20 fail; a spike of one sample at the end does not', () => {
  const leak = flatness(series(10, () => 60, (m) => 30 + Math.floor(2 * m)), 5 * MIN)!;
  assert.equal(leak.ok, false);
  assert.match(leak.reasons.join(), /open fds 30 → 49/);
  const spike = series(10, () => 60);
  spike.at(-1)!.fds = 90;
  assert.ok(flatness(spike, 5 * MIN)!.ok);
});

/** Adds at 10 a second from `from` for `seconds`, each delivered `latency(second)` ms later. */
function history(from: number, seconds: number, latency: (s: number) => number): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (let s = 0; s < seconds; s++) {
    for (let k = 0; k < 10; k++) {
      const at = from + s * 1000 + k * 100;
      const callerId = `p-${s}-${k}`;
      events.push({ type: 'add', at, proc: 'p#1', callerId, outcome: 'ok', jobId: callerId });
      // The worst of the second's jobs carries the latency; a second delivery later must not count.
      const ms = k === 9 ? latency(s) : 5;
      events.push({ type: 'delivered', at: at + ms, proc: 'w#1', jobId: callerId, callerId, attempt: 1, token: 1 });
      events.push({ type: 'delivered', at: at + ms + 5000, proc: 'w#2', jobId: callerId, callerId, attempt: 2, token: 2 });
    }
  }
  return events;
}

test('p99PerSecond: windows by add time, first delivery only, null without adds, a delivery before the add counts 0, delayed adds left out', () => {
  const from = 1_000_000;
  const h = history(from, 3, (s) => [20, 400, 30][s]!);
  h.push({ type: 'add', at: from + 2500, proc: 'p#1', callerId: 'early', outcome: 'ok', jobId: 'early' });
  h.push({ type: 'delivered', at: from + 2490, proc: 'w#1', jobId: 'early', callerId: 'early', attempt: 1, token: 1 });
  h.push({ type: 'add', at: from + 2600, proc: 'p#1', callerId: 'never', outcome: 'ok', jobId: 'never' });
  // A delayed add, delivered 1.5 s late as asked: left out.
  h.push({ type: 'add-invoke', at: from + 2690, proc: 'p#1', callerId: 'later', delayMs: 1500 });
  h.push({ type: 'add', at: from + 2700, proc: 'p#1', callerId: 'later', outcome: 'ok', jobId: 'later' });
  h.push({ type: 'delivered', at: from + 4200, proc: 'w#1', jobId: 'later', callerId: 'later', attempt: 1, token: 1 });
  const { p99, undelivered } = p99PerSecond(h, from, from + 4000);
  assert.deepEqual(p99, [20, 400, 30, null]);
  assert.equal(undelivered, 1);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99), 10);
});

test('quietWindows: seconds within 10 s after a strike, or after the start, are not quiet', () => {
  const q = quietWindows(40, 0, [15_500]);
  // 10–14 are quiet; 15 holds the strike; 25 starts 9.5 s after it.
  assert.deepEqual(q, [10, 11, 12, 13, 14, ...Array.from({ length: 14 }, (_, i) => 26 + i)]);
});

test('backToNormal: the first second that stays normal; a lone good second among bad ones does not count', () => {
  const bound = normalBound(20); // 70 ms: +50 ms is the larger here
  assert.equal(bound, 70);
  assert.equal(normalBound(200), 300);
  const p99 = [20, 20, 500, 900, 30, 800, 40, null, 25, 20, 20, 20, 20, 20, 20, 20, 20, 20];
  // Strike at 2.3 s: second 4 is good but second 5 is not; from second 6 on (nulls skipped) it stays.
  assert.equal(backToNormal(p99, 0, 2_300, null, bound), 3_700);
  // Never back before the next strike.
  assert.equal(backToNormal([20, 500, 500, 500, 20], 0, 1_000, 4_000, bound), null);
});

test('latencyVerdict: judged from the fault\'s end; passes quick recoveries, fails one that takes 8 s', () => {
  const from = 0;
  const quiet = (s: number) => 20 + (s % 3);
  // Faults at 30 s (over at 31 s) and 60 s (over at 60 s); latency high until 33 s and 63 s.
  const faults = [{ at: 30_000, endAt: 31_000 }, { at: 60_000, endAt: 60_000 }];
  const fast = Array.from({ length: 90 }, (_, s) => (s >= 30 && s < 33 ? 600 : s >= 60 && s < 63 ? 900 : quiet(s)));
  const ok = latencyVerdict(fast, from, faults);
  assert.ok(ok.ok, ok.reasons.join('; '));
  assert.equal(ok.baselineMs, 21);
  assert.deepEqual(ok.back, [2_000, 3_000]);
  assert.deepEqual(ok.backFromStrike, [3_000, 3_000]);
  assert.equal(ok.quietAbove, 0);

  const slow = Array.from({ length: 90 }, (_, s) => (s >= 30 && s < 39 ? 600 : quiet(s)));
  const bad = latencyVerdict(slow, from, faults);
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.back, [8_000, 0]);
  assert.match(bad.reasons.join(), /1 of 2 faults not back to normal within 5000 ms of their end: #1 8000 ms/);

  const none = latencyVerdict([null, null], from, []);
  assert.equal(none.ok, false);
});
