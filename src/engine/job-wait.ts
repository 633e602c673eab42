/**
 * `waitJob()` in the engine, which `request()` is built on: resolves with the job once it is
 * completed, dead or cancelled. The source of truth is the job's row: it is read once, then
 * again at once when this process settles, cancels or deletes that job (acks and nacks of the
 * jobs it leases, a broker's remote workers' included: `finished`). Jobs settled by another
 * process on a shared store, or taken back by the lease reaper, are found by a fallback re-read
 * that backs off from 25 ms to `pollIntervalMs`. Waiters are kept per job id, so a settle wakes
 * only the waits on its own job. Every timer is on the engine's clock.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { JobWaitTimeoutError } from '../core/errors.ts';
import { FINAL_STATES, type Job } from '../core/job.ts';
import { checkWaitJobOptions, type WaitJobOptions } from '../core/request.ts';

export interface JobWaitDeps {
  readonly clock: Clock;
  readonly pollIntervalMs: number;
  /** The job. @throws JobNotFoundError */
  get(id: string): Promise<Job>;
}

/** The first fallback re-read's delay; each next one doubles, up to pollIntervalMs. */
const FIRST_POLL_MS = 25;

export class JobWaits {
  readonly #d: JobWaitDeps;
  /** The wake-ups of the waits in progress, by job id. */
  readonly #waiting = new Map<string, Set<() => void>>();

  constructor(deps: JobWaitDeps) {
    this.#d = deps;
  }

  /** This process settled, cancelled or deleted the job: its waits read it again now. */
  finished(jobId: string): void {
    const wakes = this.#waiting.get(jobId);
    if (wakes) for (const wake of [...wakes]) wake();
  }

  /**
   * The job, once it is in a final state.
   * @throws JobWaitTimeoutError when `timeoutMs` runs out first (the job is not cancelled);
   * JobNotFoundError if it was deleted; the signal's reason when it aborts.
   */
  async wait<P>(id: string, options?: WaitJobOptions): Promise<Job<P>> {
    const { timeoutMs, signal } = checkWaitJobOptions(options);
    signal?.throwIfAborted();
    const { clock } = this.#d;
    let wake = (): void => {};
    let changed = false;
    let timedOut = false;
    const onFinished = (): void => {
      changed = true;
      wake();
    };
    let wakes = this.#waiting.get(id);
    if (!wakes) this.#waiting.set(id, (wakes = new Set()));
    wakes.add(onFinished);
    const deadline = clock.setTimeout(() => {
      timedOut = true;
      wake();
    }, timeoutMs);
    const onAbort = (): void => wake();
    signal?.addEventListener('abort', onAbort);
    try {
      let pollMs = FIRST_POLL_MS;
      for (;;) {
        changed = false;
        const job = await this.#d.get(id);
        if (FINAL_STATES.has(job.state)) return job as Job<P>;
        signal?.throwIfAborted();
        if (timedOut) throw new JobWaitTimeoutError(id, job.state, timeoutMs);
        if (!changed) {
          let poll: TimerHandle | undefined;
          await new Promise<void>((resolve) => {
            wake = resolve;
            poll = clock.setTimeout(resolve, pollMs);
          });
          clock.clearTimeout(poll!);
          wake = () => {};
        }
        pollMs = Math.min(pollMs * 2, Math.max(FIRST_POLL_MS, this.#d.pollIntervalMs));
      }
    } finally {
      wakes.delete(onFinished);
      if (wakes.size === 0) this.#waiting.delete(id);
      clock.clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
