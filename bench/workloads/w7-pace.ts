/**
 * W7's offered rate and its producers' schedule. W7 is paced at 70 % of the
 * same target's W3 drain rate, measured in the same bench (or the rate
 * `--w7-rate` names), so that the workers keep up and W7-p99 is the latency of
 * a loaded queue rather than the age of a backlog that grows for the whole
 * window. The rate is split evenly over the producer processes, each offset by
 * one slot, so that together they add one job every 1/rate seconds.
 * @example
 * const rate = w7Rate([41_000, 40_000, 39_000]); // 28_000: 70 % of the median W3
 * const [first] = splitRate(rate, 4); // { ratePerS: 7_000, offsetMs: 0 }
 */
import { median } from '../stats.ts';
import type { RunKind } from './catalog.ts';

/** W7's offered rate as a share of the target's W3 drain rate. */
export const W7_LOAD_FACTOR = 0.7;

/** The bounds of `--w7-rate`, jobs/s. */
export const W7_RATE_MIN = 1;
export const W7_RATE_MAX = 1_000_000;

/**
 * The rate W7 offers: {@link W7_LOAD_FACTOR} of the median of the W3 drain rates
 * measured so far for the target, rounded to a whole job per second (at least 1);
 * null when there is none yet.
 */
export function w7Rate(w3Rates: readonly number[]): number | null {
  if (w3Rates.length === 0) return null;
  return Math.max(W7_RATE_MIN, Math.round(median(w3Rates) * W7_LOAD_FACTOR));
}

/**
 * True when a target's runs include W7 but not W3 and no rate was given: the
 * runner then measures one W3 (not reported) before the first W7 run.
 */
export function needsW3ForW7(kinds: readonly RunKind[], givenRate: number | null): boolean {
  return givenRate === null && kinds.includes('W7') && !kinds.includes('W3');
}

/** One producer's share of a paced rate: its rate and the offset of its first slot after the start. */
export interface ProducerPace {
  ratePerS: number;
  offsetMs: number;
}

/** Splits `totalPerS` over `producers`: producer i adds at totalPerS / producers, its slots offset by i / totalPerS. */
export function splitRate(totalPerS: number, producers: number): ProducerPace[] {
  return Array.from({ length: producers }, (_, i) => ({ ratePerS: totalPerS / producers, offsetMs: (i * 1000) / totalPerS }));
}

/** When job `k` of a producer is due (epoch ms), given the window's start. */
export function dueAt(pace: ProducerPace, startAt: number, k: number): number {
  return startAt + pace.offsetMs + (k * 1000) / pace.ratePerS;
}

/** How many jobs a producer's schedule has due before `endAt`. */
export function scheduledJobs(pace: ProducerPace, startAt: number, endAt: number): number {
  let k = Math.max(0, Math.ceil(((endAt - startAt - pace.offsetMs) * pace.ratePerS) / 1000));
  // Floating point may put the boundary slot on either side: settle it with dueAt itself.
  while (k > 0 && dueAt(pace, startAt, k - 1) >= endAt) k--;
  while (dueAt(pace, startAt, k) < endAt) k++;
  return k;
}
