/**
 * A remote client's long waits: `drained()` and `waitJob()` ask the broker in long polls, each
 * answered as soon as what it waits for happens or at most a broker's default receiveWaitMaxMs
 * later, until it happened or this client's own deadline has passed. No call is a quick poll:
 * the broker holds each one (see the `queueDrained` and `waitJob` operations).
 */
import type { Clock } from '../core/clock.ts';
import { checkDrainedOptions, type DrainedOptions } from '../core/drained.ts';
import { DrainTimeoutError, JobWaitTimeoutError } from '../core/errors.ts';
import type { Job } from '../core/job.ts';
import { LIMITS } from '../core/limits.ts';
import { checkWaitJobOptions, type WaitJobOptions } from '../core/request.ts';
import type { DrainedReply } from '../api/operations/queues.ts';
import type { JobWaitReply } from '../api/operations/jobs.ts';
import { checkJobId } from '../core/validate.ts';

/** A call to the broker. */
export type RemoteCall = (method: string, params: Record<string, unknown>) => Promise<unknown>;

/** Longest wait one call asks of the broker: a broker's default receiveWaitMaxMs, which bounds its long polls. */
const CALL_WAIT_MS = LIMITS.receiveWaitMaxMs.default;

/** `p`, or the signal's reason as soon as it aborts (the broker's wait then ends on its own, within CALL_WAIT_MS). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `queue.drained()` through a broker. @throws DrainTimeoutError; QueueNotFoundError */
export async function remoteDrained(call: RemoteCall, clock: Clock, queue: string, options?: DrainedOptions): Promise<void> {
  const { timeoutMs, signal } = checkDrainedOptions(options);
  signal?.throwIfAborted();
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const waitMs = Math.max(0, Math.min(deadline - clock.now(), CALL_WAIT_MS));
    const { drained, ...left } = await untilAborted(call('drained', { queue, waitMs }) as Promise<DrainedReply>, signal);
    if (drained) return;
    if (clock.now() >= deadline) throw new DrainTimeoutError(queue, timeoutMs, left);
  }
}

/** `waitJob()` through a broker. @throws JobWaitTimeoutError; JobNotFoundError */
export async function remoteWaitJob<P>(call: RemoteCall, clock: Clock, id: string, options?: WaitJobOptions): Promise<Job<P>> {
  checkJobId(id);
  const { timeoutMs, signal } = checkWaitJobOptions(options);
  signal?.throwIfAborted();
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const waitMs = Math.max(0, Math.min(deadline - clock.now(), CALL_WAIT_MS));
    const { finished, job } = await untilAborted(call('waitJob', { jobId: id, waitMs }) as Promise<JobWaitReply>, signal);
    if (finished) return job as Job<P>;
    if (clock.now() >= deadline) throw new JobWaitTimeoutError(id, job.state, timeoutMs);
  }
}
