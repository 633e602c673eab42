import { compareClaimOrder, type Job } from '../../core/job.ts';
import type { ConcurrencyRule } from '../../core/queue-config.ts';
import { inClaimOrder } from '../concurrency-claim.ts';
import type { ClaimParams, Store } from '../store.ts';
import type { PgContext } from './cluster.ts';
import { pgRowToJob, type PgJobRow } from './rows.ts';

/** Claims of the PostgreSQL store (its jobsClaim delegates here): fifo, by sort key, and under per-key limits. */

export async function jobsClaim(ctx: PgContext<Store>, p: ClaimParams): Promise<Job[]> {
  if (p.concurrency) return claimLimited(ctx, p, p.concurrency);
  if (p.byKey) return claimByKey(ctx, p);
  const rows = await ctx.run(
    () => ctx.db.q(ctx.q.claim, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, p.tags ?? []]),
    `claim from ${p.queue}`,
  );
  return (rows as unknown as PgJobRow[]).map(pgRowToJob).sort(compareClaimOrder);
}

/**
 * A queue that is not fifo: jobs by sort key, then, when those run out, any without a key (added
 * by a process that had not yet seen the policy) by the fifo claim.
 */
async function claimByKey(ctx: PgContext<Store>, p: ClaimParams): Promise<Job[]> {
  const rows = (await ctx.run(
    () => ctx.db.q(ctx.q.claimByKey, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, p.tags ?? []]),
    `claim from ${p.queue}`,
  )) as unknown as (PgJobRow & { sort_key: number })[];
  rows.sort((a, b) => a.sort_key - b.sort_key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const jobs = rows.map(({ sort_key: _, ...row }) => pgRowToJob(row));
  if (jobs.length < p.limit) jobs.push(...(await jobsClaim(ctx, { ...p, limit: p.limit - jobs.length, byKey: false })));
  return jobs;
}

/**
 * A queue with per-key limits or group FIFO: its claims take turns on the queue's advisory lock,
 * so each one's statement counts the active jobs every earlier claim leased (they committed
 * before the lock was free), and no two claims together pass a key's limit.
 */
async function claimLimited(ctx: PgContext<Store>, p: ClaimParams, rule: ConcurrencyRule): Promise<Job[]> {
  const rows = (await ctx.run(() => ctx.transaction(async (tx) => {
    await tx.q(ctx.q.claimLock, [`${ctx.schema}.${p.queue}`]);
    return tx.q(p.byKey ? ctx.q.claimLimitedByKey : ctx.q.claimLimited,
      [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, rule.limit, JSON.stringify(rule.limits), rule.groupFifo, p.tags ?? []]);
  }), `claim from ${p.queue}`)) as unknown as (PgJobRow & { sort_key: number | null })[];
  return inClaimOrder(rows.map(({ sort_key, ...row }) => ({ key: sort_key, job: pgRowToJob(row) })), p.byKey === true);
}
