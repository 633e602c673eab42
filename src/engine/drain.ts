/**
 * `queue.drained()` in the engine: resolves once the queue has no job ready, scheduled or
 * active. It reads the queue's counts (a few rows, never the jobs table), then reads them again
 * when this process settles or expires one of the queue's jobs (telemetry), and otherwise on a
 * poll that backs off from 25 ms to `pollIntervalMs`, for what other processes on a shared store
 * do. Every timer is on the engine's clock, so a test moves time instead of sleeping.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { checkDrainedOptions, undrained, type DrainedOptions } from '../core/drained.ts';
import { DrainTimeoutError } from '../core/errors.ts';
import type { QueueStats } from '../core/job.ts';
import type { Telemetry } from './telemetry.ts';

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
  signal?.throwIfAborted();
  let wake = (): void => {};
  let changed = false;
  let timedOut = false;
  const onChange = (q: string): void => {
    if (q !== queue) return;
    changed = true;
    wake();
  };
  const stopListening = d.telemetry.listen({ settled: onChange, expired: onChange });
  // One deadline timer for the whole wait: a moved clock fires it however the polls fell.
  const deadline = d.clock.setTimeout(() => {
    timedOut = true;
    wake();
  }, timeoutMs);
  const onAbort = (): void => wake();
  signal?.addEventListener('abort', onAbort);
  try {
    let pollMs = FIRST_POLL_MS;
    for (;;) {
      changed = false;
      const left = undrained(await d.stats(queue));
      if (left === null) return;
      signal?.throwIfAborted();
      if (timedOut) throw new DrainTimeoutError(queue, timeoutMs, left);
      if (!changed) {
        let poll: TimerHandle | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          poll = d.clock.setTimeout(resolve, pollMs);
        });
        d.clock.clearTimeout(poll!);
        wake = () => {};
      }
      pollMs = Math.min(pollMs * 2, Math.max(FIRST_POLL_MS, d.pollIntervalMs));
    }
  } finally {
    stopListening();
    d.clock.clearTimeout(deadline);
    signal?.removeEventListener('abort', onAbort);
  }
}
