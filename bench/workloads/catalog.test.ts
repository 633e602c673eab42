import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROKER_RUNS, DEFAULT_WORKLOADS, figuresFor, FIGURES, MULTI_PROCESS_RUNS, QUEUE_SETTING_RUNS, SCALE_POINTS, selectWorkloads, TOPIC_RUNS } from './catalog.ts';

test('the default selection runs every kind and reports every figure', () => {
  const s = selectWorkloads(DEFAULT_WORKLOADS);
  assert.deepEqual(s.runs, ['W1', 'W1-topic', 'W1-fanout10', 'W2', 'W3', 'W3-priority', 'W3-sjf', 'W3-fair', 'W3-rate', 'W3-keyed', 'W3-2w', 'W4', 'W4-noisy', 'W5-10k', 'W5-1m', 'W7', 'C1000']);
  assert.deepEqual(s.figures, [
    'W1', 'W1-topic', 'W1-fanout10', 'W2', 'W3', 'W3-priority', 'W3-sjf', 'W3-fair', 'W3-rate', 'W3-keyed', 'W3-2w', 'W4-p50', 'W4-p90', 'W4-p99', 'W4-max',
    'W4-noisy-p50', 'W4-noisy-p90', 'W4-noisy-p99', 'W4-noisy-max', 'W5-10k', 'W5-1m', 'W6', 'W7', 'W7-p99', 'W7-rate', 'C1000-rss',
  ]);
});

test('W6 alone runs the 1,000,000-job drain and reports only W6', () => {
  assert.deepEqual(selectWorkloads('W6'), { runs: ['W5-1m'], figures: ['W6'] });
});

test('figure ids and workload ids, any case', () => {
  assert.deepEqual(selectWorkloads('w4-P99, W3'), { runs: ['W3', 'W4'], figures: ['W3', 'W4-p99'] });
  assert.deepEqual(selectWorkloads('W5').figures, ['W5-10k', 'W5-1m']);
  assert.deepEqual(selectWorkloads('w7'), { runs: ['W7'], figures: ['W7', 'W7-p99', 'W7-rate'] });
  assert.deepEqual(selectWorkloads('W7-p99'), { runs: ['W7'], figures: ['W7-p99'] });
  assert.deepEqual(selectWorkloads('w3-2W'), { runs: ['W3-2w'], figures: ['W3-2w'] });
  assert.deepEqual(selectWorkloads('c1000'), { runs: ['C1000'], figures: ['C1000-rss'] });
  assert.deepEqual(selectWorkloads('C1000-RSS'), { runs: ['C1000'], figures: ['C1000-rss'] });
});

test('a single-process target drops the multi-process and broker figures', () => {
  const s = selectWorkloads(DEFAULT_WORKLOADS);
  assert.deepEqual(
    figuresFor(s, (run) => !MULTI_PROCESS_RUNS.includes(run) && !BROKER_RUNS.includes(run)),
    ['W1', 'W1-topic', 'W1-fanout10', 'W2', 'W3', 'W3-priority', 'W3-sjf', 'W3-fair', 'W3-rate', 'W3-keyed', 'W4-p50', 'W4-p90', 'W4-p99', 'W4-max', 'W4-noisy-p50', 'W4-noisy-p90', 'W4-noisy-p99', 'W4-noisy-max', 'W5-10k', 'W5-1m', 'W6'],
  );
});

test('W3-policies selects W3 and its variants; W3 alone does not', () => {
  assert.deepEqual(selectWorkloads('w3-policies'), {
    runs: ['W3', 'W3-priority', 'W3-sjf', 'W3-fair', 'W3-rate', 'W3-keyed'],
    figures: ['W3', 'W3-priority', 'W3-sjf', 'W3-fair', 'W3-rate', 'W3-keyed'],
  });
  assert.deepEqual(selectWorkloads('W3'), { runs: ['W3'], figures: ['W3'] });
  assert.deepEqual(selectWorkloads('W3-sjf,W3'), { runs: ['W3', 'W3-sjf'], figures: ['W3', 'W3-sjf'] });
  // A target without queue settings (a peer) keeps W3 and drops the variants.
  const variants = QUEUE_SETTING_RUNS.map((r) => r.run);
  assert.deepEqual(figuresFor(selectWorkloads('W3-policies'), (run) => !variants.includes(run)), ['W3']);
});

test('every W3 variant is a drain figure with its bar: policies 80 % of W3, a limit that does not bind 90 %', () => {
  for (const { run, bar } of QUEUE_SETTING_RUNS) {
    assert.equal(FIGURES.find((f) => f.id === run)?.unit, 'jobs/s');
    assert.equal(bar, run === 'W3-rate' || run === 'W3-keyed' ? 0.9 : 0.8);
  }
});

test('an unknown workload is refused by name', () => {
  assert.throws(() => selectWorkloads('W3,W9'), /unknown workload "W9"/);
});

test('W5-scale runs the four backlog sizes and reports rate and RSS at each', () => {
  assert.deepEqual(selectWorkloads('W5-scale'), {
    runs: ['W5-10k', 'W5-100k', 'W5-300k', 'W5-1m'],
    figures: ['W5-10k', 'W5-100k', 'W5-300k', 'W5-1m', 'W6-10k', 'W6-100k', 'W6-300k', 'W6'],
  });
  // W5 and W6 keep their meaning; a single scaling figure runs its one size.
  assert.deepEqual(selectWorkloads('W5').figures, ['W5-10k', 'W5-1m']);
  assert.deepEqual(selectWorkloads('w6-100K'), { runs: ['W5-100k'], figures: ['W6-100k'] });
  assert.ok(!selectWorkloads(DEFAULT_WORKLOADS).runs.includes('W5-300k'), 'not in the default set');
});

test('every scaling point names a rate and an RSS figure of the catalog', () => {
  for (const p of SCALE_POINTS) {
    assert.equal(FIGURES.find((f) => f.id === p.rate)?.unit, 'jobs/s');
    assert.equal(FIGURES.find((f) => f.id === p.rss)?.unit, 'MiB');
  }
});

test('W1-topics selects W1 with its topic runs, each with its bar against W1 (one queue 80 %, ten queues 50 %); targets without topics keep W1', () => {
  assert.deepEqual(selectWorkloads('w1-topics'), { runs: ['W1', 'W1-topic', 'W1-fanout10'], figures: ['W1', 'W1-topic', 'W1-fanout10'] });
  assert.deepEqual(TOPIC_RUNS, [{ run: 'W1-topic', bar: 0.8 }, { run: 'W1-fanout10', bar: 0.5 }]);
  for (const { run } of TOPIC_RUNS) assert.equal(FIGURES.find((f) => f.id === run)?.unit, 'jobs/s');
  const topicRuns = TOPIC_RUNS.map((r) => r.run);
  assert.deepEqual(figuresFor(selectWorkloads('W1-topics'), (run) => !topicRuns.includes(run)), ['W1']);
});

test('W4-noisy is its own run with W4\'s four figures; W4 does not select it, nor it W4', () => {
  assert.deepEqual(selectWorkloads('w4-NOISY'), { runs: ['W4-noisy'], figures: ['W4-noisy-p50', 'W4-noisy-p90', 'W4-noisy-p99', 'W4-noisy-max'] });
  assert.deepEqual(selectWorkloads('W4').runs, ['W4']);
  assert.deepEqual(selectWorkloads('W4-noisy-p99,W4-p99'), { runs: ['W4', 'W4-noisy'], figures: ['W4-p99', 'W4-noisy-p99'] });
  assert.deepEqual(
    FIGURES.filter((f) => f.run === 'W4-noisy').map((f) => [f.unit, f.decimals]),
    FIGURES.filter((f) => f.run === 'W4').map((f) => [f.unit, f.decimals]),
  );
});

test('W7 reports the rate it offered beside its figures', () => {
  assert.deepEqual(selectWorkloads('W7-rate'), { runs: ['W7'], figures: ['W7-rate'] });
  assert.equal(FIGURES.find((f) => f.id === 'W7-rate')?.unit, 'jobs/s');
});
