/**
 * `waitJob()` in the engine, which `request()` is built on: resolves with the job once it is
 * completed, dead or cancelled. The source of truth is the job's row: each wait reads it once,
 * then again when something says it may have finished:
 * - at once when this process settles, cancels or deletes that job (`finished`: the acks and
 *   nacks of the jobs it leases, a broker's remote workers' included). Waits are kept per job id,
 *   so a settle wakes only the waits on its own job;
 * - otherwise, for jobs another process on a shared store settles (or the lease reaper or a
 *   bulk action ends), by the fallback: one sweep every `pollIntervalMs` that reads every job
 *   waited on in a few batched reads (never one read per wait) and wakes the waits on those that
 *   finished or are gone.
 * Every timer is on the engine's clock.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { JobWaitTimeoutError } from '../core/errors.ts';
import { FINAL_STATES, type Job } from '../core/job.ts';
import { checkWaitJobOptions, type WaitJobOptions } from '../core/request.ts';
import { wakeLoop } from './wake-loop.ts';

export interface JobWaitDeps {
  readonly clock: Clock;
  readonly pollIntervalMs: number;
  /** The job. @throws JobNotFoundError */
  get(id: string): Promise<Job>;
  /** The jobs with these ids (null for one that does not exist), for the fallback sweep. */
  getMany(ids: readonly string[]): Promise<(Job | null)[]>;
  /** Whether the engine has closed: the sweep stops. */
  closed(): boolean;
  /** A sweep's read failed (the store is down): it is tried again at the next sweep. */
  reportError(err: unknown): void;
}

/** Jobs one read of the fallback sweep asks for. */
const SWEEP_BATCH = 500;

export class JobWaits {
  readonly #d: JobWaitDeps;
  /** The wake-ups of the waits in progress, by job id. */
  readonly #waiting = new Map<string, Set<() => void>>();
  #sweep: TimerHandle | null = null;

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
    return wakeLoop({
      clock: this.#d.clock, timeoutMs, signal,
      listen: (changed) => {
        let wakes = this.#waiting.get(id);
        if (!wakes) this.#waiting.set(id, (wakes = new Set()));
        wakes.add(changed);
        this.#scheduleSweep();
        return () => {
          wakes.delete(changed);
          if (wakes.size === 0) this.#waiting.delete(id);
        };
      },
      read: async () => {
        const job = await this.#d.get(id);
        return FINAL_STATES.has(job.state) ? { done: true, value: job as Job<P> } : { done: false, left: job.state };
      },
      timedOut: (state) => new JobWaitTimeoutError(id, state, timeoutMs),
    });
  }

  /** Starts the fallback sweep if waits need it and it is not running. */
  #scheduleSweep(): void {
    if (this.#sweep !== null || this.#waiting.size === 0 || this.#d.closed()) return;
    this.#sweep = this.#d.clock.setTimeout(() => this.#runSweep(), this.#d.pollIntervalMs);
  }

  async #runSweep(): Promise<void> {
    if (this.#d.closed()) return void (this.#sweep = null);
    try {
      const ids = [...this.#waiting.keys()];
      for (let i = 0; i < ids.length; i += SWEEP_BATCH) {
        const batch = ids.slice(i, i + SWEEP_BATCH);
        const jobs = await this.#d.getMany(batch);
        batch.forEach((id, k) => {
          const job = jobs[k];
          if (!job || FINAL_STATES.has(job.state)) this.finished(id);
        });
      }
    } catch (err) {
      this.#d.reportError(err);
    } finally {
      this.#sweep = null;
      this.#scheduleSweep();
    }
  }
}
