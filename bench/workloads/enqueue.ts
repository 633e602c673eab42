import { benchPayload, benchPayloads } from '../payload.ts';
import { check, count, type RunContext, type RunFigures } from './run-context.ts';

/** W1 settings: 50,000 jobs added one call at a time, at most 64 calls in flight. */
export const W1 = { jobs: 50_000, inFlightMax: 64 } as const;
/** W2 settings: 100,000 jobs added in sequential batches of 1,000. */
export const W2 = { jobs: 100_000, batchSize: 1_000 } as const;

/**
 * W1 enqueue-single: `inFlightMax` producers, each adding one job and awaiting
 * its acknowledgement before the next, until `jobs` are added.
 * @example
 * const { W1: jobsPerS } = await enqueueSingle(ctx);
 */
export async function enqueueSingle(ctx: RunContext, jobs: number = W1.jobs, inFlightMax: number = W1.inFlightMax): Promise<RunFigures> {
  const { target } = ctx;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs) await target.addOne(benchPayload(next++));
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: inFlightMax }, lane));
  const elapsedMs = performance.now() - startedAt;
  const counts = await target.jobCounts();
  check(counts.waiting === jobs, `expected ${count(jobs)} waiting jobs after W1, found ${count(counts.waiting)}`);
  return { W1: (jobs / elapsedMs) * 1000 };
}

/**
 * W2 enqueue-bulk: `jobs` added with bulk calls of `batchSize`, one after the other.
 * @example
 * const { W2: jobsPerS } = await enqueueBulk(ctx);
 */
export async function enqueueBulk(ctx: RunContext, jobs: number = W2.jobs, batchSize: number = W2.batchSize): Promise<RunFigures> {
  const { target } = ctx;
  const startedAt = performance.now();
  for (let first = 0; first < jobs; first += batchSize) {
    await target.addBatch(benchPayloads(first, Math.min(batchSize, jobs - first)));
  }
  const elapsedMs = performance.now() - startedAt;
  const counts = await target.jobCounts();
  check(counts.waiting === jobs, `expected ${count(jobs)} waiting jobs after W2, found ${count(counts.waiting)}`);
  return { W2: (jobs / elapsedMs) * 1000 };
}
