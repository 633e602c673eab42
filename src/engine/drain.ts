/**
 * `queue.drained()` in the engine: resolves once the queue has no job ready, scheduled or
 * active. It reads the queue's counts (a few rows, never the jobs table), then reads them again
 * when this process settles or expires one of the queue's jobs (telemetry), and otherwise on a
 * poll that backs off from 25 ms to `pollIntervalMs`, for what other processes on a shared store
 * do. Every timer is on the engine's clock, so a test moves time instead of sleeping.
 */
import type { Clock } from '../core/clock.ts';
import { checkDrainedOptions, undrained, type DrainedOptions } from '../core/drained.ts';
import { DrainTimeoutError } from '../core/errors.ts';
import type { QueueStats } from '../core/job.ts';
import type { Telemetry } from './telemetry.ts';
import { wakeLoop } from './wake-loop.ts';

export interface DrainDeps {
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly pollIntervalMs: number;
  /** The queue's stats. @throws QueueNotFoundError */
  stats(queue: string): Promise<QueueStats>;
}

/** The first poll's delay; each next one doubles, up to pollIntervalMs. */
const FIRST_POLL_MS = 25;

/** @throws DrainTimeoutError when `timeoutMs` runs out first; the signal's reason when it aborts. */
export async function waitDrained(d: DrainDeps, queue: string, options?: DrainedOptions): Promise<void> {
  const { timeoutMs, signal } = checkDrainedOptions(options);
  let pollMs = FIRST_POLL_MS;
  return wakeLoop({
    clock: d.clock, timeoutMs, signal,
    listen: (changed) => {
      const onChange = (q: string): void => {
        if (q === queue) changed();
      };
      return d.telemetry.listen({ settled: onChange, expired: onChange });
    },
    read: async () => {
      const left = undrained(await d.stats(queue));
      return left === null ? { done: true, value: undefined } : { done: false, left };
    },
    timedOut: (left) => new DrainTimeoutError(queue, timeoutMs, left),
    pollMs: () => {
      const ms = pollMs;
      pollMs = Math.min(pollMs * 2, Math.max(FIRST_POLL_MS, d.pollIntervalMs));
      return ms;
    },
  });
}
