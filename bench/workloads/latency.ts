import { benchPayload } from '../payload.ts';
import { LatencyHistogram } from '../report/histogram.ts';
import { startProcs, waitProgress, type Proc } from './multi-process.ts';
import { check, count, epochNow, waitCompleted, type RunContext, type RunFigures } from './run-context.ts';

/** W4 settings: 1,000 jobs/s for 10 s into a running worker of concurrency 64. */
export const W4 = { ratePerS: 1_000, durationMs: 10_000, concurrency: 64 } as const;

/** How often the producer's pacing timer fires; each firing adds the jobs that have fallen due. */
const PACE_INTERVAL_MS = 1;

/**
 * W4 latency: a worker runs first; the producer then adds jobs one add() call
 * at a time on a fixed schedule (job i is due at i / rate after the start),
 * catching up in a burst when a timer fires late. For each job the time from
 * its add() call to the start of its handler is recorded. Every one of the
 * rate × duration samples is kept.
 *
 * In-process targets run the worker in this process and match a handler start
 * to its add() call by the payload's `n`. Targets whose producers and workers
 * are separate processes (`latencyAcrossProcesses`: spool-server) run the worker
 * in a process of its own (bench/proc.ts); the payload then carries its add time
 * `t` (epoch ms, {@link epochNow}) and the worker subtracts it at handler start;
 * the worker process sends its raw samples back.
 *
 * The samples go into an HDR histogram (report/histogram.ts: microseconds, exact
 * to the microsecond up to 32 ms); the figures are its nearest-rank p50, p90,
 * p99 and its maximum, in ms. The histogram itself goes to `ctx.keepHistogram`
 * as `W4`, so the runner can merge the runs. `id` names the figures and the
 * histogram: W4-noisy is the same run beside a CPU-bound process (workloads/noisy.ts).
 * @example
 * const figures = await addToStartLatency(ctx); // { 'W4-p50': 0.9, 'W4-p90': …, 'W4-p99': …, 'W4-max': … }
 */
export async function addToStartLatency(
  ctx: RunContext,
  ratePerS: number = W4.ratePerS,
  durationMs: number = W4.durationMs,
  concurrency: number = W4.concurrency,
  id: 'W4' | 'W4-noisy' = 'W4',
): Promise<RunFigures> {
  const total = Math.round((ratePerS * durationMs) / 1000);
  const latencies = ctx.target.latencyAcrossProcesses
    ? await latenciesAcrossProcesses(ctx, total, ratePerS, concurrency, id)
    : await latenciesInProcess(ctx, total, ratePerS, concurrency, id);
  const histogram = LatencyHistogram.of(latencies);
  check(histogram.count === total, `expected ${count(total)} latency samples, got ${count(histogram.count)}`);
  if (histogram.negatives > 0) ctx.log(`${count(histogram.negatives)} add→start samples were below zero (clocks of two processes) and count as 0`);
  ctx.keepHistogram?.(id, histogram);
  const s = histogram.summary();
  return { [`${id}-p50`]: s.p50, [`${id}-p90`]: s.p90, [`${id}-p99`]: s.p99, [`${id}-max`]: s.max };
}

async function latenciesInProcess(ctx: RunContext, total: number, ratePerS: number, concurrency: number, id: string): Promise<Float64Array> {
  const { target, log } = ctx;
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

  const produceMs = await paceAdds(ctx, total, ratePerS, (n) => {
    addCalledAt[n] = performance.now();
    return target.addOne(benchPayload(n));
  });
  await waitCompleted(worker, total, `${id}: waiting for ${count(total)} jobs`);
  await worker.close();
  log(`added ${count(total)} jobs in ${(produceMs / 1000).toFixed(2)} s (${count((total / produceMs) * 1000)} jobs/s offered)`);

  check(started === total, `expected ${count(total)} handler starts, saw ${count(started)}`);
  const latencies = new Float64Array(total);
  for (let i = 0; i < total; i++) latencies[i] = handlerStartedAt[i]! - addCalledAt[i]!;
  return latencies;
}

async function latenciesAcrossProcesses(ctx: RunContext, total: number, ratePerS: number, concurrency: number, id: string): Promise<Float64Array> {
  const { target, log } = ctx;
  const procs: Proc[] = [];
  try {
    // The worker process starts its worker before it says ready, so it is running before the first add.
    const [worker] = await startProcs(ctx, procs, 'worker', 1, { concurrency, inFlight: 0, measure: 'start' });
    worker!.send({ type: 'start', startAt: epochNow(), endAt: null });
    const produceMs = await paceAdds(ctx, total, ratePerS, (n) => target.addOne({ ...benchPayload(n), t: epochNow() }));
    await waitProgress([worker!], total, `${id}: waiting for the worker process to complete ${count(total)} jobs`);
    worker!.send({ type: 'stop' });
    const drained = await worker!.next('drained');
    await worker!.exited();
    log(`added ${count(total)} jobs in ${(produceMs / 1000).toFixed(2)} s (${count((total / produceMs) * 1000)} jobs/s offered); the worker process completed ${count(drained.completed)}`);
    check(drained.completed === total, `expected ${count(total)} completions in the worker process, got ${count(drained.completed)}`);
    check(drained.latencies.length === total, `expected ${count(total)} handler starts, saw ${count(drained.latencies.length)}`);
    return drained.latencies;
  } finally {
    for (const p of procs) p.kill();
  }
}

/**
 * Adds jobs 0 … total-1 on the W4 schedule with `add(n)`, one call per job, and
 * resolves once every add is acknowledged, with how long the schedule took (ms).
 * @throws the first failed add.
 */
async function paceAdds(ctx: RunContext, total: number, ratePerS: number, add: (n: number) => Promise<void>): Promise<number> {
  const adds: Promise<void>[] = [];
  const scheduleStartedAt = performance.now();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    const pace = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - scheduleStartedAt) * ratePerS) / 1000) + 1);
      while (next < due) {
        const pending = add(next++);
        pending.catch(reject);
        adds.push(pending);
      }
      ctx.progress?.('add', next, total);
      if (next < total) setTimeout(pace, PACE_INTERVAL_MS);
      else resolve();
    };
    pace();
  });
  const produceMs = performance.now() - scheduleStartedAt;
  await Promise.all(adds);
  return produceMs;
}
