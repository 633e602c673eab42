import type { LatencyHistogram } from '../report/histogram.ts';
import type { Target, TargetContext, TargetWorker } from '../target.ts';

/** Settings of one run that the runner passes down to its child (and a child to the processes it starts). */
export interface RunOptions {
  /** The PostgreSQL server of targets that need one, or null. */
  postgresUrl: string | null;
  /** Length of the W7 window, in seconds (docs/benchmarks.md: 60). */
  w7Seconds: number;
  /** The rate W7's producers offer in all, jobs/s (70 % of the target's W3, or --w7-rate); set by the runner for W7 runs. */
  w7RatePerS?: number | null;
  /** Where to write V8 CPU profiles of the extra processes of multi-process runs, or null. */
  cpuProfDir: string | null;
  /** Names this run in profile file names, e.g. `spool-postgres-W7-run1`. */
  runLabel: string;
  /**
   * Smoke-run sizes (`--quick`): every workload on about a fiftieth of its jobs
   * (see workloads/index.ts). The figures then only show that the run works.
   */
  quick?: boolean;
  /** Report progress to the runner (its progress bar), through the child's IPC channel. */
  progress?: boolean;
}

/**
 * Progress of the phase a run is in, for the runner's progress bar: `done` of
 * `total` (jobs, or seconds for a timed window). Cheap to call often: the child
 * passes on at most a few updates a second.
 */
export type ProgressFn = (phase: string, done: number, total: number) => void;

/** What every workload function gets. */
export interface RunContext {
  target: Target;
  /** The target's id, for the extra processes of multi-process runs. */
  targetId: string;
  /** The context the target was created with (the extra processes get the same, plus `attach`). */
  targetContext: TargetContext;
  options: RunOptions;
  /** Progress messages for people (stderr). */
  log: (message: string) => void;
  /** Progress of long phases (fills, drains, timed windows), for the progress bar; absent when nobody shows one. */
  progress?: ProgressFn;
  /**
   * Keeps a run's latency histogram (`W4`: add→handler-start, `W7`: add→completion),
   * so that the runner can merge those of several runs; absent when nobody keeps them.
   */
  keepHistogram?: (id: string, histogram: LatencyHistogram) => void;
}

/** Figures measured by one run, keyed by figure id (see catalog.ts). */
export type RunFigures = Record<string, number>;

/** How long a run may go without progress before it is declared stuck. */
export const STALL_TIMEOUT_MS = 60_000;

/**
 * Waits for `done`, but fails if `progress()` stops moving for `stallMs`:
 * a stuck queue must end the run with a message, not hang the benchmark.
 * @example
 * await withStallGuard(worker.waitCompleted(n), () => worker.completed(), 'draining');
 */
export async function withStallGuard<T>(done: Promise<T>, progress: () => number, what: string, stallMs = STALL_TIMEOUT_MS): Promise<T> {
  let last = progress();
  let lastChangeAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      let now: number;
      try {
        now = progress();
      } catch (err) {
        reject(err);
        return;
      }
      if (now !== last) {
        last = now;
        lastChangeAt = performance.now();
      } else if (performance.now() - lastChangeAt > stallMs) {
        reject(new Error(`${what}: no progress for ${stallMs / 1000} s (stuck at ${now})`));
      }
    }, 250);
  });
  try {
    return await Promise.race([done, stalled]);
  } finally {
    clearInterval(timer);
  }
}

/** Waits until the worker has `count` acknowledged completions, failing on a stall. */
export function waitCompleted(worker: TargetWorker, count: number, what: string): Promise<void> {
  return withStallGuard(worker.waitCompleted(count), () => worker.completed(), what);
}

/**
 * Wall-clock milliseconds since the epoch, with sub-millisecond resolution:
 * comparable between processes on one machine (W7 subtracts an add time taken
 * in a producer process from a completion time taken in a worker process).
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Throws when a check that makes the figure meaningful does not hold. */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`benchmark check failed: ${message}`);
}

/**
 * Formats a count for messages: 1,000,000. Plain string work on purpose:
 * the first toLocaleString call loads ICU data, about 10 ms, which would land
 * inside a timed window.
 */
export function count(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
