import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_WORKLOADS, selectWorkloads } from './catalog.ts';

test('the default selection runs every implemented kind and reports every figure', () => {
  const s = selectWorkloads(DEFAULT_WORKLOADS);
  assert.deepEqual(s.runs, ['W1', 'W2', 'W3', 'W4', 'W5-10k', 'W5-1m']);
  assert.deepEqual(s.figures, ['W1', 'W2', 'W3', 'W4-p50', 'W4-p90', 'W4-p99', 'W4-max', 'W5-10k', 'W5-1m', 'W6']);
  assert.deepEqual(s.skipped, []);
});

test('W6 alone runs the 1,000,000-job drain and reports only W6', () => {
  assert.deepEqual(selectWorkloads('W6'), { runs: ['W5-1m'], figures: ['W6'], skipped: [] });
});

test('figure ids, any case, and W7 is skipped', () => {
  assert.deepEqual(selectWorkloads('w4-P99, W3,W7'), { runs: ['W3', 'W4'], figures: ['W3', 'W4-p99'], skipped: ['W7'] });
  assert.deepEqual(selectWorkloads('W5').figures, ['W5-10k', 'W5-1m']);
});

test('an unknown workload is refused by name', () => {
  assert.throws(() => selectWorkloads('W3,W9'), /unknown workload "W9"/);
});
