/**
 * Latency histograms for the benchmark (W4, W7): an HDR histogram
 * (hdr-histogram-js) in whole microseconds, read back in milliseconds.
 *
 * Four significant digits: every value up to 32.767 ms is kept to the exact
 * microsecond, and any larger one within 0.01% (2 µs up to 65 ms, 4 µs up to
 * 131 ms, …). Percentiles are nearest-rank, as HdrHistogram defines them: the
 * smallest recorded value such that at least p% of the samples are at or below
 * it (reported as the highest value of its bucket, which below 32.767 ms is
 * the value itself). The maximum is the exact largest sample in the histogram
 * that recorded it; once encoded, it is the top of its bucket (within 0.01%).
 *
 * A histogram travels between processes (a run's child process to the runner)
 * as HdrHistogram's compressed base64 encoding; {@link LatencyHistogram.add}
 * merges two, so the percentiles of several runs or processes together are
 * those of all their samples.
 * @example
 * const h = new LatencyHistogram();
 * for (const ms of latencies) h.recordMs(ms);
 * h.percentileMs(99); // e.g. 1.382
 * const again = LatencyHistogram.decode(h.encode());
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/** Significant decimal digits the histogram keeps (HdrHistogram's precision setting). */
export const SIGNIFICANT_DIGITS = 4;
/** The largest latency recorded as such, 1 hour in µs; the histogram grows past it rather than refuse a value. */
const HIGHEST_TRACKABLE_US = 3_600_000_000;

/** The figures reported for a latency distribution, in ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  readonly #h: Histogram;
  /** Samples below zero (a clock step between two processes), recorded as 0. */
  #negatives = 0;

  constructor(histogram?: Histogram) {
    this.#h =
      histogram ??
      build({
        bitBucketSize: 32,
        autoResize: true,
        lowestDiscernibleValue: 1,
        highestTrackableValue: HIGHEST_TRACKABLE_US,
        numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
        useWebAssembly: false,
      });
  }

  /** A histogram of every value of `latenciesMs`. */
  static of(latenciesMs: Iterable<number>): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const ms of latenciesMs) h.recordMs(ms);
    return h;
  }

  /** Decodes {@link encode}'s output. @throws on a malformed string. */
  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram(decodeFromCompressedBase64(encoded, 32, false));
  }

  /** Records one latency in milliseconds (rounded to the microsecond; negative values count as 0). @throws RangeError on NaN or infinity. */
  recordMs(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`latency must be a finite number of ms, got ${ms}`);
    let us = Math.round(ms * 1000);
    if (us < 0) {
      this.#negatives++;
      us = 0;
    }
    this.#h.recordValue(us);
  }

  /** Adds every sample of `other` to this histogram. */
  add(other: LatencyHistogram): void {
    this.#h.add(other.#h);
    this.#negatives += other.#negatives;
  }

  /** How many samples were recorded. */
  get count(): number {
    return this.#h.totalCount;
  }

  /** Samples that were below zero and recorded as 0 (not carried by {@link encode}). */
  get negatives(): number {
    return this.#negatives;
  }

  /** The nearest-rank `p`-th percentile (0 < p ≤ 100), in ms. @throws RangeError when empty or p is out of range. */
  percentileMs(p: number): number {
    if (this.count === 0) throw new RangeError('percentile of an empty histogram');
    if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
    return this.#h.getValueAtPercentile(p) / 1000;
  }

  /** The largest sample, in ms. @throws RangeError when empty. */
  maxMs(): number {
    if (this.count === 0) throw new RangeError('max of an empty histogram');
    return this.#h.maxValue / 1000;
  }

  /** p50, p90, p99 and max, in ms. @throws RangeError when empty. */
  summary(): LatencySummary {
    return { count: this.count, p50: this.percentileMs(50), p90: this.percentileMs(90), p99: this.percentileMs(99), max: this.maxMs() };
  }

  /**
   * The percentile spectrum for a chart: the latency at percentiles 0%, 50%, 75%,
   * 87.5%, … (halving the distance to 100% each step, `ticksPerHalf` points per
   * halving) up to `upTo` nines and the maximum, in ms.
   */
  spectrum(upTo = 99.99, ticksPerHalf = 4): { percentile: number; ms: number }[] {
    if (this.count === 0) return [];
    const out: { percentile: number; ms: number }[] = [];
    for (let halvings = 0; ; halvings += 1 / ticksPerHalf) {
      const p = 100 - 100 / 2 ** halvings;
      if (p > upTo || p >= 100) break;
      out.push({ percentile: p, ms: p === 0 ? this.#h.getValueAtPercentile(0) / 1000 : this.percentileMs(p) });
    }
    out.push({ percentile: 100, ms: this.maxMs() });
    return out;
  }

  /** HdrHistogram's compressed base64 encoding, for another process. */
  encode(): string {
    return encodeIntoCompressedBase64(this.#h);
  }
}
