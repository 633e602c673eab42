/** Helpers of the operator suites (operator.ts, operator-bulk.ts): jobs in a given state, a store that records its batch calls. */
import assert from 'node:assert/strict';
import type { Job, JobState, Lease } from '../../core/job.ts';
import type { Store } from '../store.ts';
import type { Harness, HarnessTarget } from './harness.ts';

export const lease = (j: Job): Lease => ({ jobId: j.id, token: j.leaseToken });
export const byId = (a: { jobId: string }, b: { jobId: string }) => (a.jobId < b.jobId ? -1 : 1);

/**
 * A job of `queue` in `state`. Active, completed and dead jobs are claimed at the top
 * priority, so the claim takes that very job whatever else waits in the queue.
 */
export async function jobIn(h: Harness, queue: string, state: JobState, name?: string): Promise<Job> {
  const q = h.api.queue(queue);
  const named = name === undefined ? {} : { name };
  if (state === 'scheduled') return q.add({ state }, { ...named, delayMs: 60_000 });
  if (state === 'ready') return q.add({ state }, named);
  if (state === 'cancelled') {
    const job = await q.add({ state }, named);
    await h.api.cancel(job.id);
    return job;
  }
  const added = await q.add({ state }, { ...named, priority: 1_000_000 });
  const [job] = await h.spool.claim(queue, 1);
  assert.equal(job!.id, added.id);
  if (state === 'completed') await h.api.ack(lease(job!));
  if (state === 'dead') await h.api.nack(lease(job!), 'boom', { unrecoverable: true });
  return job!;
}

export type Call = { method: string; ids?: readonly string[]; result?: unknown };

/** The store, with the ids or results it is called with recorded, for checking batches. */
export function recording(store: Store, calls: Call[]): Store {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (key === 'jobsRetry' || key === 'jobsCancel' || key === 'jobsDelete') calls.push({ method: key, ids: args[0] as string[] });
        if (key === 'queueDelete') calls.push({ method: key, result });
        return result;
      };
    },
  });
}

/** The target with the engine's store recording its batch calls into `calls`: the engine works on the recording store, whichever way the test comes in. */
export function recorded(target: HarnessTarget, calls: Call[]): HarnessTarget {
  return { ...target, factory: async (o) => recording(await target.factory(o), calls) };
}
