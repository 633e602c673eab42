import type { Job } from '../core/job.ts';
import type { OperationHost } from './operations.ts';
import { claimPooled } from './receive-pool.ts';

/**
 * Long poll: jobs at once if there are any (claimed together with the queue's other
 * receives of the moment: receive-pool.ts), else wait up to `waitMs` for the first
 * ones pushed to a temporary subscription. A closed request ends the wait; jobs are
 * never handed to a request that is gone (the subscription closes first, and a claim
 * in flight then gives its jobs back).
 */
export async function receive(spool: OperationHost, queue: string, max: number, waitMs: number, aborted: AbortSignal, tags: readonly string[] = []): Promise<Job[]> {
  const now = await claimPooled(spool, queue, max, aborted, tags);
  if (now.length > 0 || waitMs === 0 || aborted.aborted) return now;
  return new Promise<Job[]>((resolve) => {
    let done = false;
    const finish = (jobs: Job[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      aborted.removeEventListener('abort', onAbort);
      sub.close();
      resolve(jobs);
    };
    const sub = spool.subscribe(queue, {
      tags,
      capacity: max,
      deliver: (jobs) => finish(jobs),
      revoke: () => {},
    });
    const timer = setTimeout(() => finish([]), waitMs);
    const onAbort = () => finish([]);
    aborted.addEventListener('abort', onAbort);
    sub.addCredits(max);
  });
}
