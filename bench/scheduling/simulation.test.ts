import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, percentile, REPORT_SETTINGS, simulate } from './report.ts';
import { expectations, specMoments } from './theory.ts';
import { makeTrace, REPORT_TRACE } from './trace.ts';

// The report's trace in miniature (the policies' checks, through the real engine on a manual
// clock): nothing here depends on how fast the machine is.
const SMALL = { ...REPORT_TRACE, jobs: 1_500, seed: 3 };

test('the simulation report holds its checks on a small trace', { timeout: 120_000 }, async () => {
  const report = await simulate(SMALL, REPORT_SETTINGS);
  for (const c of report.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
  assert.equal(report.checks.length, 6);
  const text = formatReport(report, 'npm run bench:scheduling -- --jobs 1500 --seed 3');
  for (const policy of ['fifo', 'priority', 'sjf', 'fair']) assert.match(text, new RegExp(`^policy ${policy}`, 'm'));
  assert.match(text, /^checks:$/m);
  // Every job of the trace was started, under every policy (the replay checks that all completed).
  for (const p of ['fifo', 'priority', 'sjf', 'fair'] as const) assert.equal(report.figures[p].find((f) => f.label === 'all')!.jobs, SMALL.jobs);
});

test('the trace is the same for the same seed, and follows its spec', () => {
  const a = makeTrace(SMALL);
  assert.deepEqual(makeTrace(SMALL), a);
  assert.notDeepEqual(makeTrace({ ...SMALL, seed: 4 }), a);
  assert.equal(a.length, SMALL.jobs);
  assert.ok(a.every((j, k) => k === 0 || j.arrivalMs >= a[k - 1]!.arrivalMs), 'arrivals in order');
  const floods = a.filter((j) => j.flood !== null);
  assert.ok(floods.every((j) => j.tenant === 'noisy'));
});

test('the expectations: Cobham and Phipps agree with the conservation law', () => {
  const t = expectations(specMoments(REPORT_TRACE), REPORT_SETTINGS.agingMs);
  const [p0, p1, p2] = REPORT_TRACE.priorityShares;
  // Σ ρ_k W_k / ρ = W_FCFS: strict priorities move waiting between levels, not in total.
  assert.ok(Math.abs(p0 * t.cobham[0] + p1 * t.cobham[1] + p2 * t.cobham[2] - t.fcfs) / t.fcfs < 1e-9);
  assert.ok(t.cobham[2] < t.cobham[1] && t.cobham[1] < t.cobham[0]);
  // Serving the shortest first lowers the mean wait; short jobs wait less than long ones.
  assert.ok(t.sjf.all < t.fcfs && t.sjf.short < t.sjf.long);
  // Without floods or size spread, P-K for M/M/1: ρ E[S] / (1 − ρ).
  const mm1 = expectations({ ...specMoments(REPORT_TRACE), floodsPerMs: 0, floodShare: 0, m1: 1_000, m2: 2_000_000, singlesPerMs: 0.0008 }, 1);
  assert.ok(Math.abs(mm1.fcfs - (0.8 * 1_000) / 0.2) < 1e-6);
  assert.throws(() => expectations({ ...specMoments(REPORT_TRACE), workers: 2 }, 1), /single-server/);
});

test('percentile is nearest-rank', () => {
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99), 99);
  assert.equal(percentile([7], 99), 7);
});
