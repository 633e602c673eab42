import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartSpecs, latencySpec, renderSvg, scalingSpec, spectrumSpec, throughputSpec } from './charts.ts';
import { LatencyHistogram } from './histogram.ts';
import type { BenchResults, ReportEntry } from './results.ts';

const entry = (target: string, workload: string, value: number, unit: string): ReportEntry => ({
  target,
  workload,
  value,
  min: value * 0.95,
  max: value * 1.05,
  unit,
  durability: 'fsync on commit',
});

/** A small fake run: two targets, W1–W4, and the scaling view for one of them. */
function fakeResults(): BenchResults {
  const entries: ReportEntry[] = [];
  for (const [i, target] of ['spool-embedded', 'bullmq'].entries()) {
    entries.push(entry(target, 'W1', 100_000 - i * 40_000, 'jobs/s'), entry(target, 'W2', 240_000 - i * 90_000, 'jobs/s'), entry(target, 'W3', 43_000 - i * 20_000, 'jobs/s'));
    entries.push(entry(target, 'W4-p50', 0.4 + i, 'ms'), entry(target, 'W4-p90', 0.6 + i, 'ms'), entry(target, 'W4-p99', 1.3 + i, 'ms'), entry(target, 'W4-max', 9 + i, 'ms'));
  }
  entries.push(
    entry('spool-embedded', 'W5-10k', 38_000, 'jobs/s'),
    entry('spool-embedded', 'W5-100k', 42_000, 'jobs/s'),
    entry('spool-embedded', 'W5-300k', 44_000, 'jobs/s'),
    entry('spool-embedded', 'W5-1m', 44_600, 'jobs/s'),
    entry('spool-embedded', 'W6-10k', 104, 'MiB'),
    entry('spool-embedded', 'W6-100k', 130, 'MiB'),
    entry('spool-embedded', 'W6-300k', 180, 'MiB'),
    entry('spool-embedded', 'W6', 245, 'MiB'),
  );
  const latencies = Array.from({ length: 2_000 }, (_, i) => 0.2 + (i % 100) / 50);
  return {
    date: '2026-11-24T12:00:00.000Z',
    command: 'npm run bench -- --write-docs',
    commit: 'abc1234',
    machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 8, os: 'Test OS', kernel: 'Linux 6 x64', node: 'v24.0.0', sqlite: '3.50.0' },
    runs: 3,
    quick: false,
    entries,
    histograms: { 'spool-embedded': { W4: LatencyHistogram.of(latencies).encode() } },
    failures: [],
  };
}

/** The marks (`<path>`, or `<line>` for rules) of the `nth` mark group of `kind` (rect, symbol, line, rule) drawn from data. */
function marks(svg: string, kind: string, nth = 0): string[] {
  const groups = [...svg.matchAll(new RegExp(`<g class="mark-${kind} role-mark[^"]*"[^>]*>(.*?)</g>`, 'gs'))];
  assert.ok(groups.length > nth, `no ${kind} marks in the SVG`);
  return [...groups[nth]![1]!.matchAll(/<(?:path|line)\b[^>]*>/g)].map((m) => m[0]);
}

test('throughput: a bar per target and workload, coloured by target, with min–max rules', async () => {
  const svg = await renderSvg(throughputSpec(fakeResults())!);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const bars = marks(svg, 'rect');
  assert.equal(bars.length, 6);
  assert.equal(bars.filter((b) => b.includes('target: bullmq')).length, 3);
  assert.ok(bars.some((b) => b.includes('label: W3 drain') && b.includes('target: spool-embedded') && b.includes('fill="#1f4e9c"')));
  assert.equal(marks(svg, 'rule').length, 6);
  assert.match(svg, /<text[^>]*>spool-embedded<\/text>/);
  assert.match(svg, /<text[^>]*>Throughput<\/text>/);
});

test('latency: a point per target and percentile on a log scale', async () => {
  const svg = await renderSvg(latencySpec(fakeResults())!);
  const points = marks(svg, 'symbol');
  assert.equal(points.length, 8);
  assert.ok(points.some((p) => p.includes('percentile: max') && p.includes('target: bullmq')));
  for (const label of ['p50', 'p90', 'p99', 'max']) assert.match(svg, new RegExp(`<text[^>]*>${label}</text>`));
});

test('latency spectrum: one line per target with a merged histogram', async () => {
  const svg = await renderSvg(spectrumSpec(fakeResults())!);
  assert.equal(marks(svg, 'line').length, 1);
  assert.match(svg, /<text[^>]*>99%<\/text>/);
});

test('scaling: rate and RSS against the backlog, a line per target in each panel', async () => {
  const svg = await renderSvg(scalingSpec(fakeResults())!);
  assert.equal(marks(svg, 'line', 0).length, 1, 'drain rate');
  assert.equal(marks(svg, 'line', 1).length, 1, 'peak RSS');
  assert.equal(marks(svg, 'symbol', 0).length, 4, 'four backlog sizes');
  assert.match(svg, /<text[^>]*>backlog \(jobs, log scale\)<\/text>/);
});

test('a chart is left out when its figures are missing', () => {
  const results = fakeResults();
  assert.deepEqual(chartSpecs(results).map((c) => c.name), ['throughput', 'latency', 'latency-spectrum', 'scaling']);
  const onlyW3 = { ...results, entries: results.entries.filter((e) => e.workload === 'W3'), histograms: {} };
  assert.deepEqual(chartSpecs(onlyW3).map((c) => c.name), ['throughput']);
  // W5-10k, W5-1m and W6 without the middle sizes are no scaling view.
  const ends = { ...results, entries: results.entries.filter((e) => ['W5-10k', 'W5-1m', 'W6'].includes(e.workload)) };
  assert.equal(scalingSpec(ends), null);
});
