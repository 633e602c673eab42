/** What `waitJob()` and `request()` take, and how a finished job answers a request: the same for the engine and a remote client. */
import type { AddOptions } from './add-options.ts';
import { InvalidArgumentError, JobFailedError } from './errors.ts';
import type { Job } from './job.ts';
import { checkLimit, describe } from './limits.ts';
import { checkOptionKeys } from './options.ts';

/** Options of `waitJob()`. */
export interface WaitJobOptions {
  /**
   * Longest wait, in ms: past it the wait fails with a JobWaitTimeoutError that says whether the
   * job had started. The job is not cancelled. Default 30 000 (the `requestWaitMs` limit), at most one hour; 0 looks once.
   */
  timeoutMs?: number;
  /** Ends the wait early: it rejects with the signal's reason (the job is not cancelled). */
  signal?: AbortSignal;
}

/**
 * Options of `request()`: how long to wait for the result, and the job's add options under
 * `add` (apart, because an add's own `timeoutMs` bounds one attempt, not the wait).
 */
export interface RequestOptions extends WaitJobOptions {
  /** The job's add options (priority, delayMs, idempotencyKey…), as `add()` takes them. */
  add?: AddOptions;
}

const WAIT_KEYS = ['timeoutMs', 'signal'] as const;

/** Checked {@link WaitJobOptions}. @throws InvalidArgumentError naming the option */
export function checkWaitJobOptions(options: WaitJobOptions | undefined, what = 'waitJob'): { timeoutMs: number; signal: AbortSignal | undefined } {
  checkOptionKeys(options, WAIT_KEYS, what);
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal', `${what}: signal must be an AbortSignal (got ${describe(signal)})`);
  }
  return { timeoutMs: checkLimit('requestWaitMs', options?.timeoutMs, 'timeoutMs'), signal };
}

/** Splits `request()`'s options into the add's (checked by the add) and the wait's. @throws InvalidArgumentError naming the option */
export function splitRequestOptions(options: RequestOptions | undefined): { add: AddOptions | undefined; wait: { timeoutMs: number; signal: AbortSignal | undefined } } {
  checkOptionKeys(options, [...WAIT_KEYS, 'add'], 'request');
  const wait: WaitJobOptions = {};
  if (options?.timeoutMs !== undefined) wait.timeoutMs = options.timeoutMs;
  if (options?.signal !== undefined) wait.signal = options.signal;
  return { add: options?.add, wait: checkWaitJobOptions(wait, 'request') };
}

/**
 * `request()` on any Spool, in process or remote: adds the job, waits for it to finish, and
 * answers with its result. @throws JobFailedError when it went dead or was cancelled; JobWaitTimeoutError
 */
export async function runRequest<P, R>(spool: RequestHost, queue: string, payload: P, options: RequestOptions | undefined): Promise<R> {
  const { add, wait } = splitRequestOptions(options);
  const added = await spool.add<P>(queue, payload, add);
  const job = await spool.waitJob(added.id, wait);
  if (job.state === 'completed') return job.result as R;
  throw new JobFailedError(job.id, job.state, job.lastError);
}

/** What `request()` is built on. */
interface RequestHost {
  add<P>(queue: string, payload: P, options?: AddOptions): Promise<Job<P>>;
  waitJob(id: string, options?: WaitJobOptions): Promise<Job>;
}
