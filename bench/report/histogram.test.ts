import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram } from './histogram.ts';

/** 1 µs … 10,000 µs, one sample each, as ms. */
const oneToTenThousandUs = Array.from({ length: 10_000 }, (_, i) => (i + 1) / 1000);

test('nearest-rank percentiles and the max of known samples, to the microsecond', () => {
  const h = LatencyHistogram.of(oneToTenThousandUs);
  assert.equal(h.count, 10_000);
  assert.equal(h.percentileMs(50), 5);
  assert.equal(h.percentileMs(90), 9);
  assert.equal(h.percentileMs(99), 9.9);
  assert.equal(h.percentileMs(99.9), 9.99);
  assert.equal(h.percentileMs(100), 10);
  assert.equal(h.maxMs(), 10);
  assert.deepEqual(h.summary(), { count: 10_000, p50: 5, p90: 9, p99: 9.9, max: 10 });
});

test('a single sample is every percentile; sub-microsecond values round to the microsecond', () => {
  const h = LatencyHistogram.of([0.4174]);
  assert.equal(h.percentileMs(50), 0.417);
  assert.equal(h.percentileMs(99), 0.417);
  assert.equal(h.maxMs(), 0.417);
});

test('values past 32.767 ms keep four significant digits; the max is exact', () => {
  const h = LatencyHistogram.of([1.5, 123.456, 4_567.891]);
  assert.ok(Math.abs(h.percentileMs(66) - 123.456) <= 123.456 * 1e-4, String(h.percentileMs(66)));
  assert.equal(h.maxMs(), 4_567.891);
});

test('the percentiles of merged histograms are those of all the samples', () => {
  const evens = LatencyHistogram.of(oneToTenThousandUs.filter((_, i) => i % 2 === 0));
  const odds = LatencyHistogram.of(oneToTenThousandUs.filter((_, i) => i % 2 === 1));
  evens.add(odds);
  assert.deepEqual(evens.summary(), LatencyHistogram.of(oneToTenThousandUs).summary());
});

test('a histogram survives its encoding (how runs reach the runner)', () => {
  const h = LatencyHistogram.of([...oneToTenThousandUs, 57.3]);
  const back = LatencyHistogram.decode(h.encode());
  const { max, ...percentiles } = back.summary();
  assert.deepEqual(percentiles, { count: 10_001, p50: 5.001, p90: 9.001, p99: 9.901 });
  // The encoding keeps buckets: a decoded max is its bucket's top, within 0.01% (2 µs at 57 ms).
  assert.ok(max >= 57.3 && max <= 57.3 * 1.0001, String(max));
  const merged = LatencyHistogram.decode(h.encode());
  merged.add(LatencyHistogram.decode(h.encode()));
  assert.equal(merged.count, 2 * h.count);
  assert.equal(merged.percentileMs(99), h.percentileMs(99));
});

test('negative samples (clocks of two processes) count as 0 and are counted', () => {
  const h = LatencyHistogram.of([-0.002, 1]);
  assert.equal(h.negatives, 1);
  assert.equal(h.percentileMs(50), 0);
  assert.equal(h.maxMs(), 1);
});

test('the spectrum runs from the minimum up the percentiles to the max', () => {
  const spectrum = LatencyHistogram.of(oneToTenThousandUs).spectrum();
  assert.deepEqual(spectrum[0], { percentile: 0, ms: 0.001 });
  assert.deepEqual(spectrum.at(-1), { percentile: 100, ms: 10 });
  assert.ok(spectrum.some((p) => p.percentile === 50 && p.ms === 5));
  for (let i = 1; i < spectrum.length; i++) assert.ok(spectrum[i]!.percentile > spectrum[i - 1]!.percentile && spectrum[i]!.ms >= spectrum[i - 1]!.ms);
});

test('empty histograms, bad percentiles and non-finite samples are refused', () => {
  const empty = new LatencyHistogram();
  assert.throws(() => empty.percentileMs(50), RangeError);
  assert.throws(() => empty.maxMs(), RangeError);
  assert.deepEqual(empty.spectrum(), []);
  const h = LatencyHistogram.of([1]);
  assert.throws(() => h.percentileMs(0), RangeError);
  assert.throws(() => h.percentileMs(101), RangeError);
  assert.throws(() => h.recordMs(Number.NaN), RangeError);
  assert.throws(() => h.recordMs(Infinity), RangeError);
});
