/**
 * The capacity answer of one queue: from the model the overview measured (λ, S, c), the mean
 * wait before start that today's workers give and the fewest workers that keep it at or below
 * a target, by M/M/c (Erlang C). A pure function; `GET /v1/queues/{queue}/capacity` serves it.
 */
import type { QueueModel } from './overview.ts';
import { MMC_ASSUMPTIONS, meanQueueWaitMs, workersFor } from './queueing.ts';

/** How many workers a target mean wait needs, and what the model was measured from. */
export interface QueueCapacity {
  queue: string;
  /** When the overview the model comes from was aggregated (epoch ms). */
  at: number;
  /** The window λ and S were measured over, in ms; 0 for a queue newer than the last aggregation (nothing measured yet). */
  windowMs: number;
  /** λ: jobs added per second. */
  arrivalRate: number;
  /** S: mean handler run time, in ms; null before an attempt finished in the window. */
  serviceTimeMs: number | null;
  /** c: worker slots consuming the queue through every live process sharing the store now. */
  workers: number;
  /** ρ = λ·S / c; null without workers or a service time. */
  utilisation: number | null;
  /** λ·S ≥ c with jobs arriving: today's workers cannot keep up and the wait grows without bound. */
  overloaded: boolean;
  /** Wq, the mean wait before start with today's c, in ms; null when overloaded, without workers, or without S while jobs arrive. */
  predictedWaitMs: number | null;
  /** The target mean wait before start, in ms. */
  targetWaitMs: number;
  /** The fewest workers with Wq ≤ the target: 0 when nothing arrives; null without S, or when more than {@link WORKERS_NEEDED_MAX} would be needed. */
  workersNeeded: number | null;
  /** What the numbers assume (M/M/c). */
  assumptions: string;
}

/** The most workers a capacity answer counts up to (the most one worker's concurrency may be). */
export const WORKERS_NEEDED_MAX = 10_000;

/** A model with nothing measured: a queue the overview has not aggregated yet. */
const UNMEASURED: Pick<QueueModel, 'windowMs' | 'arrivalRate' | 'serviceTimeMs' | 'workers' | 'utilisation'> = {
  windowMs: 0, arrivalRate: 0, serviceTimeMs: null, workers: 0, utilisation: null,
};

/**
 * The capacity answer from a queue's model (null: not in the overview yet).
 * @example
 * queueCapacity('mail', Date.now(), overview.queues[0].model, 1000).workersNeeded
 */
export function queueCapacity(queue: string, at: number, model: QueueModel | null, targetWaitMs: number): QueueCapacity {
  const { windowMs, arrivalRate: lambda, serviceTimeMs: s, workers: c, utilisation } = model ?? UNMEASURED;
  // Jobs arriving with no worker to take them wait forever, whatever S is.
  const overloaded = lambda > 0 && (c === 0 || (s !== null && (lambda * s) / 1000 >= c));
  const predictedWaitMs = overloaded || c === 0 || (s === null && lambda > 0) ? null : meanQueueWaitMs(c, lambda, s ?? 0);
  const workersNeeded = lambda === 0 ? 0 : s === null ? null : workersFor(targetWaitMs, lambda, s, WORKERS_NEEDED_MAX);
  return {
    queue, at, windowMs, arrivalRate: lambda, serviceTimeMs: s, workers: c, utilisation,
    overloaded, predictedWaitMs, targetWaitMs, workersNeeded, assumptions: MMC_ASSUMPTIONS,
  };
}
