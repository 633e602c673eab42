/** What `queue.drained()` takes and when a queue counts as drained, the same for the engine and a remote client. */
import { InvalidArgumentError } from './errors.ts';
import type { QueueStats } from './job.ts';
import { checkLimit, describe } from './limits.ts';
import { checkOptionKeys } from './options.ts';

/** Options of `queue.drained()`. */
export interface DrainedOptions {
  /**
   * Longest wait, in ms: past it the wait fails with a DrainTimeoutError. Default 30 000 (the
   * `drainedWaitMs` limit), at most one hour; 0 checks once.
   */
  timeoutMs?: number;
  /** Ends the wait early: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Checked {@link DrainedOptions}. @throws InvalidArgumentError naming the option */
export function checkDrainedOptions(options: DrainedOptions | undefined): { timeoutMs: number; signal: AbortSignal | undefined } {
  checkOptionKeys(options, ['timeoutMs', 'signal'], 'drained');
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal', `drained: signal must be an AbortSignal (got ${describe(signal)})`);
  }
  return { timeoutMs: checkLimit('drainedWaitMs', options?.timeoutMs, 'timeoutMs'), signal };
}

/** The jobs that keep a queue from being drained (ready, scheduled, active), or null when it has none. */
export function undrained(stats: QueueStats): { ready: number; scheduled: number; active: number } | null {
  const { ready, scheduled, active } = stats.counts;
  return ready + scheduled + active === 0 ? null : { ready, scheduled, active };
}
