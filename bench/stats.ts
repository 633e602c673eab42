/**
 * The few statistics the runner reports over the runs of one figure: median,
 * min and max. Latency percentiles within a run come from an HDR histogram
 * (report/histogram.ts), not from here.
 * @example
 * summarize([41_000, 39_500, 40_200]); // { median: 40200, min: 39500, max: 41000 }
 */

/** Median, min and max of a set of run results. */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** Ascending numeric sort into a new array (the default sort compares as strings). */
export function sortedAscending(values: readonly number[] | Float64Array): Float64Array {
  return Float64Array.from(values).sort();
}

/** The median of `values`: the middle one, or the mean of the two middle ones. @throws RangeError when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const s = sortedAscending(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median, min and max of the runs of one figure. @throws RangeError when empty. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summary of no values');
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}
