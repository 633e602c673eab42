/**
 * The queueing model behind the dashboard, `spool top` and `/v1/overview`: rates measured over a
 * sliding window, Little's law (L = λ·W) for the time in the system, and the M/M/c model
 * (Erlang C) for how many workers a target wait needs. Pure functions, no I/O.
 *
 * The M/M/c assumptions, stated wherever its numbers are shown: arrivals are a Poisson process
 * (independent, at a steady rate λ), service times are exponential with mean S, there are c
 * identical workers taking jobs first come first served, and the queue is unbounded. Real
 * queues break these (bursts, priorities, retries), so the answer is an estimate to start from.
 */
import type { QueueCounts } from '../engine/telemetry.ts';
import type { QueueModel } from './overview.ts';

/** One reading of a queue's cumulative counts, at `at` (ms). */
export interface CountsSample {
  at: number;
  counts: QueueCounts;
}

/** What the model needs besides the counts: the queue's state now and its worker slots. */
export interface QueueNow {
  ready: number;
  active: number;
  /** Worker slots consuming from the queue (c). */
  workers: number;
}

/**
 * The model of one queue from the oldest and newest samples of its window. Counts that went
 * down (the process forgot a deleted queue) are read as a fresh start.
 */
export function queueModel(first: CountsSample, last: CountsSample, now: QueueNow): QueueModel {
  const windowMs = Math.max(0, last.at - first.at);
  const seconds = windowMs / 1000;
  const delta = (key: keyof QueueCounts): number => Math.max(0, last.counts[key] - first.counts[key]);
  const rate = (n: number): number => (seconds > 0 ? n / seconds : 0);
  const arrivalRate = rate(delta('added'));
  const completionRate = rate(delta('completed'));
  const failureRate = rate(delta('failed') + delta('dead'));
  const deadRate = rate(delta('dead'));
  const served = delta('serviceCount');
  const serviceTimeMs = served > 0 ? delta('serviceMsSum') / served : null;
  const length = now.ready + now.active;
  const utilisation = now.workers > 0 && serviceTimeMs !== null ? (arrivalRate * serviceTimeMs) / 1000 / now.workers : null;
  // W is measured (add to completion of the jobs completed in the window); without completions,
  // Little's law estimates it from the number in the system and the rate into it.
  const finished = delta('systemCount');
  const meanWaitMs = finished > 0 ? delta('systemMsSum') / finished : arrivalRate > 0 ? (length / arrivalRate) * 1000 : null;
  const net = completionRate - arrivalRate;
  const drainEtaMs = net > 0 ? (now.ready / net) * 1000 : now.ready === 0 ? 0 : null;
  const dropRate = rate(delta('dropped'));
  const dropped = last.counts.dropped ?? 0;
  return { windowMs, arrivalRate, completionRate, failureRate, deadRate, serviceTimeMs, workers: now.workers, utilisation, length, meanWaitMs, drainEtaMs, dropRate, dropped };
}

/**
 * Erlang's C formula: the probability that a job has to wait in an M/M/c queue with `c` workers
 * and offered load `a` = λ·S (in erlangs). 1 when the workers cannot keep up (a ≥ c).
 * Computed with the Erlang B recurrence, which stays exact for large c.
 */
export function erlangC(c: number, a: number): number {
  if (!Number.isInteger(c) || c < 1) throw new RangeError(`erlangC needs at least one worker (got ${c})`);
  if (a < 0) throw new RangeError(`erlangC needs a load of at least 0 (got ${a})`);
  if (a >= c) return 1;
  let b = 1; // Erlang B with 0 servers
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b / (1 - (a / c) * (1 - b));
}

/** Mean time a job waits before a worker takes it in M/M/c (ms); Infinity when the workers cannot keep up. */
export function meanQueueWaitMs(c: number, arrivalRate: number, serviceTimeMs: number): number {
  const a = (arrivalRate * serviceTimeMs) / 1000;
  if (a >= c) return Infinity;
  if (arrivalRate === 0) return 0;
  return (erlangC(c, a) * serviceTimeMs) / (c - a);
}

/**
 * The fewest workers that keep the mean wait before start at or below `targetWaitMs` in M/M/c,
 * searching up to `maxWorkers`; null when even that many are not enough (or nothing is measured).
 */
export function workersFor(targetWaitMs: number, arrivalRate: number, serviceTimeMs: number, maxWorkers = 10_000): number | null {
  if (arrivalRate <= 0) return 0;
  const a = (arrivalRate * serviceTimeMs) / 1000;
  for (let c = Math.max(1, Math.floor(a) + 1); c <= maxWorkers; c++) {
    if (meanQueueWaitMs(c, arrivalRate, serviceTimeMs) <= targetWaitMs) return c;
  }
  return null;
}

/** The assumptions of {@link workersFor}, in one line, for wherever its answer is shown. */
export const MMC_ASSUMPTIONS =
  'M/M/c: Poisson arrivals at the measured rate, exponential service times with the measured mean, c identical workers, first come first served, no limit on the queue';
