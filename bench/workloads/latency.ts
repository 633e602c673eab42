import { benchPayload } from '../payload.ts';
import { percentileOfSorted, sortedAscending } from '../stats.ts';
import { check, count, waitCompleted, type RunContext, type RunFigures } from './run-context.ts';

/** W4 settings: 1,000 jobs/s for 10 s into a running worker of concurrency 64. */
export const W4 = { ratePerS: 1_000, durationMs: 10_000, concurrency: 64 } as const;

/** How often the producer's pacing timer fires; each firing adds the jobs that have fallen due. */
const PACE_INTERVAL_MS = 1;

/**
 * W4 latency: a worker runs first; the producer then adds jobs one add() call
 * at a time on a fixed schedule (job i is due at i / rate after the start),
 * catching up in a burst when a timer fires late. For each job the time from
 * its add() call to the start of its handler is recorded, matched by the
 * payload's `n`. Every one of the rate × duration samples is kept.
 * @example
 * const figures = await addToStartLatency(ctx); // { 'W4-p50': 0.9, 'W4-p90': …, 'W4-p99': …, 'W4-max': … }
 */
export async function addToStartLatency(
  ctx: RunContext,
  ratePerS: number = W4.ratePerS,
  durationMs: number = W4.durationMs,
  concurrency: number = W4.concurrency,
): Promise<RunFigures> {
  const { target, log } = ctx;
  const total = Math.round((ratePerS * durationMs) / 1000);
  const addCalledAt = new Float64Array(total);
  const handlerStartedAt = new Float64Array(total).fill(NaN);
  let started = 0;
  const worker = await target.startWorker({
    concurrency,
    onStart: (payload) => {
      if (Number.isNaN(handlerStartedAt[payload.n])) started++;
      handlerStartedAt[payload.n] = performance.now();
    },
  });

  const what = `W4: waiting for ${count(total)} jobs`;
  const adds: Promise<void>[] = [];
  const scheduleStartedAt = performance.now();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    const pace = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - scheduleStartedAt) * ratePerS) / 1000) + 1);
      while (next < due) {
        const n = next++;
        addCalledAt[n] = performance.now();
        const add = target.addOne(benchPayload(n));
        add.catch(reject);
        adds.push(add);
      }
      if (next < total) setTimeout(pace, PACE_INTERVAL_MS);
      else resolve();
    };
    pace();
  });
  const produceMs = performance.now() - scheduleStartedAt;
  await Promise.all(adds);
  await waitCompleted(worker, total, what);
  await worker.close();
  log(`added ${count(total)} jobs in ${(produceMs / 1000).toFixed(2)} s (${count((total / produceMs) * 1000)} jobs/s offered)`);

  check(started === total, `expected ${count(total)} handler starts, saw ${count(started)}`);
  const latencies = new Float64Array(total);
  for (let i = 0; i < total; i++) latencies[i] = handlerStartedAt[i]! - addCalledAt[i]!;
  const sorted = sortedAscending(latencies);
  return {
    'W4-p50': percentileOfSorted(sorted, 50),
    'W4-p90': percentileOfSorted(sorted, 90),
    'W4-p99': percentileOfSorted(sorted, 99),
    'W4-max': sorted[sorted.length - 1]!,
  };
}
