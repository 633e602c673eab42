import type { Job, QueueStats } from '../core/job.ts';
import type { QueueConfig, QueueConfigInput } from '../core/queue-config.ts';
import type { AddOptions } from '../core/add-options.ts';
import type { DrainedOptions } from '../core/drained.ts';
import type { RequestOptions } from '../core/request.ts';
import type { Handler, Worker, WorkerOptions } from '../worker/worker.ts';
import type { AddItem, BulkAction, BulkResult, JobPage, ListOptions, QueueDeleted, SpoolOperations } from './contract.ts';

/**
 * A handle on one queue of a Spool. Holds no state of its own.
 * @example
 * const emails = spool.queue<{ to: string }>('emails');
 * await emails.add({ to: 'a@example.com' }, { delayMs: 60_000, priority: 5 });
 */
export class Queue<P = unknown> {
  readonly name: string;
  readonly #spool: SpoolOperations;

  constructor(spool: SpoolOperations, name: string) {
    this.#spool = spool;
    this.name = name;
  }

  /** Adds a job; resolves once it is durable. */
  add(payload: P, options?: AddOptions): Promise<Job<P>> {
    return this.#spool.add<P>(this.name, payload, options);
  }

  /**
   * Request/reply: adds a job and resolves with its result once a worker completes it (see
   * SpoolOperations.request and docs/request-reply.md).
   * @example
   * const { total } = await spool.queue<{ items: number[] }>('sum').request<{ total: number }>({ items: [1, 2] }, { timeoutMs: 5_000 });
   * @throws JobFailedError if the job went dead or was cancelled; JobWaitTimeoutError (with `started`) when `timeoutMs` runs out
   */
  request<R = unknown>(payload: P, options?: RequestOptions): Promise<R> {
    return this.#spool.request<P, R>(this.name, payload, options);
  }

  /** Adds many jobs in one atomic write. */
  addMany(items: readonly AddItem<P>[]): Promise<Job<P>[]> {
    return this.#spool.addMany<P>(this.name, items);
  }

  /** Changes this queue's settings (visibility timeout, max attempts, backoff…). */
  configure(config: QueueConfigInput): Promise<QueueConfig> {
    return this.#spool.configureQueue(this.name, config);
  }

  config(): Promise<QueueConfig> {
    return this.#spool.queueConfig(this.name);
  }

  async stats(): Promise<QueueStats> {
    const [s] = await this.#spool.stats(this.name);
    return s!;
  }

  /**
   * Resolves when this queue has no job ready, scheduled or active: everything added so far has
   * finished (completed, dead or cancelled). Waits at most `timeoutMs` (default 30 s).
   * @example
   * await queue.addMany(items);
   * await queue.drained({ timeoutMs: 60_000 }); // throws DrainTimeoutError if jobs are still waiting or running
   * @throws DrainTimeoutError when the time runs out first; QueueNotFoundError
   */
  drained(options?: DrainedOptions): Promise<void> {
    return this.#spool.drained(this.name, options);
  }

  list(options?: ListOptions): Promise<Job[]> {
    return this.#spool.list(this.name, options);
  }

  /** A page of this queue's jobs and where to go on from (see SpoolOperations.listPage). */
  listPage(options?: ListOptions): Promise<JobPage> {
    return this.#spool.listPage(this.name, options);
  }

  /** Deletes every waiting job of this queue; returns how many. */
  purge(): Promise<number> {
    return this.#spool.purge(this.name);
  }

  pause(): Promise<void> {
    return this.#spool.setPaused(this.name, true);
  }

  resume(): Promise<void> {
    return this.#spool.setPaused(this.name, false);
  }

  /** Retries, cancels or deletes one bounded batch of this queue's jobs in `state` (and with `name`, in `group`); pass `next` back as `after`. */
  bulk(action: BulkAction, filter: { state?: Job['state']; name?: string; group?: string } = {}, options: { after?: string; limit?: number } = {}): Promise<BulkResult> {
    return this.#spool.bulk(action, { queue: this.name, ...filter }, options);
  }

  /** Deletes this queue and all its jobs; refused while jobs are running unless `force`. */
  delete(options: { force?: boolean } = {}): Promise<QueueDeleted> {
    return this.#spool.deleteQueue(this.name, options);
  }

  work<R = unknown>(handler: Handler<P, R>, options?: WorkerOptions): Worker<P, R> {
    return this.#spool.work<P, R>(this.name, handler, options);
  }
}
