import type { Target, TargetWorker } from '../target.ts';

/** What every workload function gets. */
export interface RunContext {
  target: Target;
  /** Progress messages for people (stderr). */
  log: (message: string) => void;
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
