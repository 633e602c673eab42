import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dueAt, needsW3ForW7, scheduledJobs, splitRate, w7Rate, W7_LOAD_FACTOR } from './w7-pace.ts';

test('W7 offers 70 % of the median W3 measured so far, none without a W3', () => {
  assert.equal(W7_LOAD_FACTOR, 0.7);
  assert.equal(w7Rate([]), null);
  assert.equal(w7Rate([10_000]), 7_000);
  assert.equal(w7Rate([41_000, 30_000, 40_000]), 28_000);
  assert.equal(w7Rate([0.5]), 1, 'at least one job a second');
});

test('four producers together add one job every 1/rate seconds, and the window holds rate × seconds jobs', () => {
  const startAt = 1_000_000;
  const paces = splitRate(1_000, 4);
  assert.deepEqual(paces.map((p) => p.ratePerS), [250, 250, 250, 250]);
  const due = paces.flatMap((p) => Array.from({ length: 5 }, (_, k) => dueAt(p, startAt, k) - startAt)).sort((a, b) => a - b);
  assert.deepEqual(due.map((t) => Math.round(t * 1e6) / 1e6), Array.from({ length: 20 }, (_, i) => i));
  const total = paces.reduce((s, p) => s + scheduledJobs(p, startAt, startAt + 2_000), 0);
  assert.equal(total, 2_000);
  for (const p of paces) {
    const n = scheduledJobs(p, startAt, startAt + 2_000);
    assert.ok(dueAt(p, startAt, n - 1) < startAt + 2_000 && dueAt(p, startAt, n) >= startAt + 2_000);
  }
});

test('a rate that does not divide evenly still offers it: 7 jobs/s over 4 producers for 4 s', () => {
  const paces = splitRate(7, 4);
  assert.equal(paces.reduce((s, p) => s + scheduledJobs(p, 0, 4_000), 0), 28);
});

test('a W3 run is added for W7 only when the target runs W7 without W3 and no --w7-rate was given', () => {
  assert.equal(needsW3ForW7(['W4', 'W7'], null), true);
  assert.equal(needsW3ForW7(['W3', 'W7'], null), false);
  assert.equal(needsW3ForW7(['W4', 'W7'], 5_000), false);
  assert.equal(needsW3ForW7(['W3', 'W4'], null), false);
});
