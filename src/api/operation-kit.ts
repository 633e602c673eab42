/** What the operation rows (src/api/operations/) share: the `op` helper, common input fields and the lease-batch helpers. */
import { LIMITS } from '../core/limits.ts';
import { errorToWire } from '../protocol/wire-errors.ts';
import type { Operation, OperationContext } from './operations.ts';
import * as S from './schemas.ts';

export const op = <I, O>(o: Operation<I, O>): Operation<I, O> => o;

export type QueueInput = { queue: string };
export type JobInput = { jobId: string };

export const queueIn = { queue: S.queueName };
export const jobIn = { jobId: S.jobId };
export const results = (value: S.Schema | null): S.Schema => ({ type: 'object', required: ['results'], properties: { results: { type: 'array', items: S.itemResult(value) } } });
export const leaseBatch = (extra: Record<string, S.Schema>): S.Schema =>
  S.object({ leases: { type: 'array', minItems: 1, maxItems: LIMITS.claimBatchMax.max, items: S.object({ jobId: S.jobId, token: S.leaseToken, ...extra }, ['jobId', 'token']) } }, ['leases']);

/** Runs one lease operation per item; an item the caller may not settle, or whose lease is stale, fails alone. */
export async function settleEach<T extends { jobId: string; token: number }>(items: readonly T[], ctx: OperationContext, run: (item: T) => Promise<unknown>): Promise<{ results: unknown[] }> {
  const denied = await ctx.settleDenials(items.map((i) => i.jobId));
  return {
    results: await Promise.all(items.map(async (item) => {
      try {
        const refusal = denied.get(item.jobId);
        if (refusal) throw refusal;
        const value = await run(item);
        return { jobId: item.jobId, ok: true, ...(value === undefined ? {} : { value }) };
      } catch (err) {
        return { jobId: item.jobId, ok: false, error: errorToWire(err) };
      }
    })),
  };
}
