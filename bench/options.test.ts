import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, UsageError, USAGE } from './options.ts';

test('--w7-rate: a whole number of jobs/s within its bounds, null when not given', () => {
  assert.equal(parseOptions(['--workload', 'W7']).w7Rate, null);
  assert.equal(parseOptions(['--workload', 'W7', '--w7-rate', '5000']).w7Rate, 5_000);
  for (const bad of ['0', '-5', '2.5', 'fast', '1000001']) {
    assert.throws(() => parseOptions([`--w7-rate=${bad}`]), (err: unknown) => err instanceof UsageError && /--w7-rate must be an integer from 1 to 1000000/.test(err.message), bad);
  }
  assert.match(USAGE, /--w7-rate/);
});

test('--workload W4-noisy selects the noisy run and its figures', () => {
  const { selection } = parseOptions(['--workload', 'W4-noisy', '--quick']);
  assert.deepEqual(selection.runs, ['W4-noisy']);
  assert.deepEqual(selection.figures, ['W4-noisy-p50', 'W4-noisy-p90', 'W4-noisy-p99', 'W4-noisy-max']);
  assert.match(USAGE, /W4-noisy/);
});
