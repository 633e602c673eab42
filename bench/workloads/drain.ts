import { benchPayloads, type BenchPayload } from '../payload.ts';
import type { BenchJob, BenchQueueSettings, Target, TargetWorker } from '../target.ts';
import { check, count, waitCompleted, type RunContext } from './run-context.ts';

/** W3 settings: a backlog of 100,000 ready jobs drained by one worker of concurrency 64. */
export const W3 = { backlog: 100_000, concurrency: 64 } as const;
/** W5 backlog sizes; W6 is the peak RSS of the larger one. The scaling view (W5-scale) adds 100,000 and 300,000. */
export const W5 = { smallBacklog: 10_000, largeBacklog: 1_000_000, concurrency: 64 } as const;

/**
 * Jobs per bulk call while filling the backlog (not timed): the W2 batch size.
 * It matters for W6 in the embedded deployment, where the producer shares the
 * engine's heap: with batches of 10,000 the fill's garbage alone lifted the peak
 * RSS by about 100 MiB (see docs/benchmarks.md).
 */
const FILL_BATCH_SIZE = 1_000;
/** How often the broker's resident set is sampled. */
const MEMORY_SAMPLE_INTERVAL_MS = 100;
const MiB = 1024 * 1024;

/** What one drain run measured. */
export interface DrainResult {
  jobsPerS: number;
  /** Peak resident set of the broker over the whole run (fill and drain), in MiB. */
  peakRssMiB: number;
}

/**
 * A W3 variant: the queue settings configured before the fill, and the add options of job `n`
 * (the payload's `n`).
 */
export interface DrainVariant {
  settings: BenchQueueSettings;
  job(payload: BenchPayload): BenchJob;
}

/**
 * The W3 variants (catalog.ts, QUEUE_SETTING_RUNS). Each keeps W3's backlog, worker and
 * payloads, and adds only what its feature needs: three priority levels, a cost, ten groups,
 * a rate limit far above any drain rate (1,000,000 jobs/s, the largest `rate`), or a per-key
 * concurrency limit that never binds (ten keys, 1,000 each: the worker holds at most 64 jobs).
 */
export const DRAIN_VARIANTS = {
  'W3-priority': { settings: { policy: 'priority' }, job: (payload) => ({ payload, priority: payload.n % 3 }) },
  // Costs 1–100 ms, spread over the backlog so that the claim order differs from the add order.
  'W3-sjf': { settings: { policy: 'sjf' }, job: (payload) => ({ payload, cost: 1 + ((payload.n * 37) % 100) }) },
  'W3-fair': { settings: { policy: 'fair' }, job: (payload) => ({ payload, group: `tenant-${payload.n % 10}` }) },
  'W3-rate': { settings: { rateLimit: { rate: 1_000_000, perMs: 1_000 } }, job: (payload) => ({ payload }) },
  'W3-keyed': { settings: { concurrencyLimit: 1_000 }, job: (payload) => ({ payload, concurrencyKey: `tenant-${payload.n % 10}` }) },
} as const satisfies Record<string, DrainVariant>;

/**
 * Fills the target with `backlog` ready jobs in batches (untimed) and checks they are all
 * waiting. Returns the counts after the fill. With a variant, its settings are configured
 * first and each job gets its add options.
 */
export async function fillBacklog(ctx: RunContext, backlog: number, variant?: DrainVariant): Promise<Awaited<ReturnType<RunContext['target']['jobCounts']>>> {
  const { target } = ctx;
  if (variant) {
    check(target.configureQueue !== undefined && target.addJobs !== undefined, `${target.id} has no queue settings for a W3 variant`);
    await target.configureQueue(variant.settings);
  }
  for (let first = 0; first < backlog; first += FILL_BATCH_SIZE) {
    const n = Math.min(FILL_BATCH_SIZE, backlog - first);
    const payloads = benchPayloads(first, n);
    if (variant) await target.addJobs!(payloads.map(variant.job));
    else await target.addBatch(payloads);
    ctx.progress?.('fill', first + n, backlog);
  }
  const counts = await ctx.target.jobCounts();
  check(counts.waiting === backlog, `expected a backlog of ${count(backlog)} ready jobs, found ${count(counts.waiting)}`);
  return counts;
}

/**
 * W3 / W5 drain: fills a backlog of `backlog` ready jobs (not timed), then
 * times one worker of `concurrency` with a no-op handler from its start until
 * the last completion is acknowledged, and checks the store agrees that every
 * job is completed. Memory of the broker is sampled throughout.
 * @example
 * const { jobsPerS } = await drainBacklog(ctx, 100_000, 64);
 */
export async function drainBacklog(ctx: RunContext, backlog: number, concurrency: number, variant?: DrainVariant): Promise<DrainResult> {
  const { target, log } = ctx;
  const memory = new MemorySampler(target);
  memory.start();
  try {
    const fillStartedAt = performance.now();
    await fillBacklog(ctx, backlog, variant);
    const fillMs = performance.now() - fillStartedAt;
    const verbose = backlog >= 1_000_000;
    if (verbose) log(`filled ${count(backlog)} jobs in ${(fillMs / 1000).toFixed(1)} s (peak RSS so far ${memory.peakMiB().toFixed(0)} MiB); draining…`);
    await memory.sample();
    memory.startPhase();

    const what = `draining ${count(backlog)} jobs`;
    const startedAt = performance.now();
    const worker = await target.startWorker({ concurrency });
    const stopProgress = reportCompletions(ctx, 'drain', worker, backlog);
    try {
      await waitCompleted(worker, backlog, what);
    } finally {
      stopProgress();
    }
    const elapsedMs = performance.now() - startedAt;
    await worker.close();

    const after = await target.jobCounts();
    check(after.completed === backlog, `expected ${count(backlog)} completed jobs in the store, found ${count(after.completed)}`);
    check(after.waiting === 0 && after.active === 0 && after.failed === 0, `expected an empty queue, found ${JSON.stringify(after)}`);
    await memory.sample();
    if (verbose) log(`drained in ${(elapsedMs / 1000).toFixed(1)} s; RSS sampled during the drain peaked at ${memory.phasePeakMiB().toFixed(0)} MiB, ${memory.peakMiB().toFixed(0)} MiB over the run`);
    return { jobsPerS: (backlog / elapsedMs) * 1000, peakRssMiB: memory.peakMiB() };
  } finally {
    memory.stop();
  }
}

/** How often a running worker's completions are passed to the progress bar. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * Passes the worker's completions to `ctx.progress` every 250 ms, if anyone
 * shows progress; returns the function that stops it (and reports the last count).
 */
export function reportCompletions(ctx: RunContext, phase: string, worker: TargetWorker, total: number): () => void {
  const { progress } = ctx;
  if (!progress) return () => {};
  const tick = (): void => {
    try {
      progress(phase, worker.completed(), total);
    } catch {
      // A failed worker: the wait reports it.
    }
  };
  const timer = setInterval(tick, PROGRESS_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    tick();
  };
}

/**
 * Tracks the broker's peak resident set: samples on an interval plus the OS
 * high-water mark. The sampled peak of the current phase is kept apart, to tell
 * the fill's peak from the drain's.
 */
class MemorySampler {
  readonly #target: Target;
  #timer: NodeJS.Timeout | undefined;
  #peakBytes = 0;
  #phasePeakBytes = 0;
  /** A failed background sample: reading the peak then throws rather than under-report it. */
  #error: unknown = null;

  constructor(target: Target) {
    this.#target = target;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.sample().catch((err: unknown) => (this.#error ??= err));
    }, MEMORY_SAMPLE_INTERVAL_MS);
  }

  async sample(): Promise<void> {
    const m = await this.#target.brokerMemory();
    this.#peakBytes = Math.max(this.#peakBytes, m.rssBytes, m.peakRssBytes ?? 0);
    this.#phasePeakBytes = Math.max(this.#phasePeakBytes, m.rssBytes);
  }

  /** Peak over the whole run, in MiB. @throws the error of a failed sample. */
  peakMiB(): number {
    if (this.#error) throw new Error('sampling the broker memory failed', { cause: this.#error });
    return this.#peakBytes / MiB;
  }

  /** Starts a new phase: its sampled peak starts from zero. */
  startPhase(): void {
    this.#phasePeakBytes = 0;
  }

  /** The sampled peak since {@link startPhase}, in MiB. */
  phasePeakMiB(): number {
    return this.#phasePeakBytes / MiB;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
