import { InvalidStateError, JobNotFoundError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';

/**
 * Cancels a job that has not finished, in the store.
 * @returns whether it was running (its handler must then be told) and the token of its lease.
 * @throws JobNotFoundError; InvalidStateError if the job already finished.
 */
export async function cancelJob(store: Store, id: string, now: number): Promise<{ wasActive: boolean; token: number }> {
  const [r] = await store.jobsCancel([id], now);
  if (!r || !r.found) throw new JobNotFoundError(id);
  if (!r.cancelled) throw new InvalidStateError(id, r.previous, `job ${id} is ${r.previous}; finished jobs cannot be cancelled`);
  return { wasActive: r.previous === 'active', token: r.token };
}

/**
 * Makes a dead or cancelled job ready again with fresh attempts, or a scheduled job ready now.
 * @returns the job's queue (its consumers are to be woken).
 * @throws JobNotFoundError; InvalidStateError for completed, ready or active jobs.
 */
export async function retryJob(store: Store, id: string, now: number): Promise<string> {
  const [r] = await store.jobsRetry([id], now);
  if (!r || !r.found) throw new JobNotFoundError(id);
  if (!r.retried) {
    const why = r.previous === 'completed' ? 'completed jobs are final; add a new job to run it again' : `it is already ${r.previous}`;
    throw new InvalidStateError(id, r.previous, `cannot retry job ${id}: ${why}`);
  }
  return r.queue;
}
