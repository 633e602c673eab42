import type { BulkAction, BulkResult, JobFilter, QueueDeleted } from '../api/contract.ts';
import type { Clock } from '../core/clock.ts';
import { InvalidStateError, JobNotFoundError, QueueBusyError, StaleLeaseError } from '../core/errors.ts';
import type { JobState, Lease } from '../core/job.ts';
import { checkOptionKeys, checkOptionType } from '../core/options.ts';
import { checkJobId, checkQueueName } from '../core/validate.ts';
import type { Store } from '../store/store.ts';
import { bulkAction } from './bulk.ts';

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

/**
 * Deletes a job that is not active: scheduled, ready, completed, dead or cancelled. The store
 * checks the state in the statement that deletes, so a job claimed at the same moment is
 * either claimed (and kept) or deleted (and not delivered), never both.
 * @returns the queue and the state the job was deleted from.
 * @throws InvalidArgumentError for a malformed id; JobNotFoundError; InvalidStateError if the job is active (cancel it first).
 */
export async function deleteJob(store: Store, id: string, now: number): Promise<{ queue: string; previous: JobState }> {
  checkJobId(id);
  const [r] = await store.jobsDelete([id], now);
  if (!r || !r.found) throw new JobNotFoundError(id);
  if (!r.deleted) throw new InvalidStateError(id, r.previous, `job ${id} is ${r.previous}; cancel it first, then delete it`);
  return { queue: r.queue, previous: r.previous };
}

export { QueueBusyError } from '../core/errors.ts';

/** Jobs deleted per step of deleteQueue: bounded, so a huge queue is not one huge transaction. */
export const QUEUE_DELETE_BATCH = 10_000;

/** What deleteQueue did. */
export interface QueueDeleteSummary {
  /** The queue existed (it had a row, i.e. settings, or jobs). */
  found: boolean;
  /** The queue is gone (false only when it was not found). */
  deleted: boolean;
  /** Active jobs deleted with it (only with `force`). */
  activeJobs: number;
  /** Jobs deleted, in every state. */
  jobsDeleted: number;
}

/**
 * Deletes a queue: every job of it in every state, then its row (settings, paused flag), in
 * steps of `batch` jobs, each atomic. Without `force` a queue with an active job is refused,
 * before anything is deleted, and no step ever deletes an active job (one that becomes active
 * between steps stops the delete with QueueBusyError; the jobs already deleted stay deleted).
 * With `force`, active jobs are deleted too: their leases are stale from then on (every ack,
 * nack or extend gets STALE_LEASE, the job no longer exists); they are returned in `revoke` so
 * the caller can abort the handlers it runs. A job added while the delete runs may outlive it,
 * and a job added afterwards makes the queue anew with default settings.
 * Deleting an unknown queue is not an error: `found` and `deleted` are false.
 * @returns `result` for the caller; `revoke`: the leases of the active jobs deleted.
 * @throws InvalidArgumentError for a bad name or options; QueueBusyError (an InvalidStateError) when active jobs refuse it.
 */
export async function deleteQueue(
  store: Store,
  name: string,
  options: { force?: boolean } | undefined,
  now: number,
  batch = QUEUE_DELETE_BATCH,
): Promise<{ result: QueueDeleteSummary; revoke: Lease[] }> {
  checkQueueName(name);
  checkOptionKeys(options, ['force'], 'deleteQueue');
  checkOptionType(options?.force, 'force', 'boolean');
  const force = options?.force === true;
  let found = false;
  let jobsDeleted = 0;
  let activeJobs = 0;
  const revoke: Lease[] = [];
  for (;;) {
    const r = await store.queueDelete({ name, force, limit: batch }, now);
    if (!force && r.activeJobs > 0) throw new QueueBusyError(name, r.activeJobs, jobsDeleted);
    found ||= r.found;
    jobsDeleted += r.jobsDeleted;
    activeJobs += r.activeJobs;
    revoke.push(...r.leases);
    if (r.deleted || !r.found) return { result: { found, deleted: found, activeJobs, jobsDeleted }, revoke };
  }
}

/** What the operator actions need from the engine: the store, time, and its effects on this process. */
export interface OperatorDeps {
  store: Store;
  clock: Clock;
  /** Aborts the handler holding exactly this lease, if this process delivered it. */
  revoke(lease: Lease, reason: Error): void;
  /** Jobs became ready in `queue`. */
  wake(queue: string): void;
  /** A queue was deleted: forget its cached settings. */
  forgetQueue(queue: string): void;
  /** A job was cancelled or deleted: waits on it (waitJob, request) read it again now. */
  finished(jobId: string): void;
  /** Jobs were cancelled or deleted: settle the flows they are children of (docs/flows.md). */
  flowJobsEnded(ids: readonly string[]): Promise<void>;
  /** Most jobs a bulk batch with a payload filter examines (searchScanMax). */
  searchScanMax: number;
}

/**
 * The operator's actions on jobs and queues (cancel, retry, delete, bulk), and what each
 * must do in this process afterwards: abort exactly the leases it ended, wake consumers.
 */
export class Operator {
  readonly #d: OperatorDeps;

  constructor(deps: OperatorDeps) {
    this.#d = deps;
  }

  async cancel(id: string): Promise<void> {
    const { wasActive, token } = await cancelJob(this.#d.store, checkJobId(id), this.#d.clock.now());
    if (wasActive) this.#d.revoke({ jobId: id, token }, new StaleLeaseError(id, token, 'cancelled', token));
    this.#d.finished(id);
    await this.#d.flowJobsEnded([id]);
  }

  async retry(id: string): Promise<void> {
    this.#d.wake(await retryJob(this.#d.store, checkJobId(id), this.#d.clock.now()));
  }

  async deleteJob(id: string): Promise<void> {
    await deleteJob(this.#d.store, id, this.#d.clock.now());
    this.#d.finished(id); // its waits read it again and answer JobNotFoundError
    await this.#d.flowJobsEnded([id]);
  }

  /**
   * Deletes a queue, its jobs (in bounded batches) and its settings. Refused while jobs are
   * running unless `force`; forced, their handlers here are aborted and their acks fail STALE_LEASE.
   * @throws QueueBusyError (INVALID_STATE) naming how many jobs are active.
   */
  async deleteQueue(name: string, options: { force?: boolean }): Promise<QueueDeleted> {
    const { result, revoke } = await deleteQueue(this.#d.store, name, options, this.#d.clock.now());
    for (const l of revoke) this.#d.revoke(l, new StaleLeaseError(l.jobId, l.token, null, null));
    if (result.found) this.#d.forgetQueue(name);
    return { jobsDeleted: result.jobsDeleted };
  }

  /**
   * Retries, cancels or deletes one bounded batch (`limit`, default bulkBatchMax) of the jobs
   * matching `filter`; pass `next` back as `after` until it is null.
   * @example
   * for (let after: string | undefined; ; ) {
   *   const r = await spool.bulk('retry', { queue: 'emails', state: 'dead' }, { after });
   *   if (!r.next) break;
   *   after = r.next;
   * }
   */
  async bulk(action: BulkAction, filter: JobFilter, options: { after?: string; limit?: number }): Promise<BulkResult> {
    const { result, revoke, wake } = await bulkAction(this.#d.store, action, filter, options, this.#d.clock.now(), this.#d.searchScanMax);
    for (const l of revoke) this.#d.revoke(l, new StaleLeaseError(l.jobId, l.token, 'cancelled', l.token));
    if (wake) this.#d.wake(wake);
    return result;
  }
}
