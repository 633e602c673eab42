import { compareClaimOrder, type Job } from '../../core/job.ts';
import type { ConcurrencyRule } from '../../core/queue-config.ts';
import { firstWindow, inClaimOrder, smallestLimit, nextWindow, pickFromWindow, type WindowRow } from '../concurrency-claim.ts';
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

/** The largest int parameter: a limit of none. */
const INT_MAX = 2 ** 31 - 1;

/**
 * A queue with per-key limits or group FIFO: its claims take turns on the queue's advisory lock,
 * so each one's pick counts the active jobs every earlier claim leased (they committed before the
 * lock was free), and no two claims together pass a key's limit. Under group FIFO one statement
 * reads the queue's live jobs and leases what fits; with per-key limits alone, the pick reads a
 * window of the ready jobs in claim order (read again larger while keys at their limits leave it
 * short: see concurrency-claim.ts), then the lease of what it picked, in the same transaction.
 */
async function claimLimited(ctx: PgContext<Store>, p: ClaimParams, rule: ConcurrencyRule): Promise<Job[]> {
  const rows = (await ctx.run(() => ctx.transaction(async (tx) => {
    await tx.q(ctx.q.claimLock, [`${ctx.schema}.${p.queue}`]);
    if (!rule.groupFifo) {
      // The plain claim of the queue's order, when no key can reach its limit (see cannotBind; the
      // statement counts the active jobs itself, under the lock). It leases nothing otherwise, and
      // nothing when no job is ready: then the windowed pick below settles which.
      const args = (limit: number) => [p.queue, p.now, limit, p.now + p.leaseMs, p.workerId ?? null, p.tags ?? [], Math.min(smallestLimit(rule), INT_MAX)];
      const first = await tx.q(p.byKey ? ctx.q.claimByKeyGuarded : ctx.q.claimGuarded, args(p.limit));
      if (first.length > 0) {
        if (!p.byKey || first.length >= p.limit) return first;
        return [...first, ...(await tx.q(ctx.q.claimGuarded, args(p.limit - first.length)))];
      }
    }
    if (rule.groupFifo) {
      return tx.q(p.byKey ? ctx.q.claimLimitedByKey : ctx.q.claimLimited,
        [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, rule.limit, JSON.stringify(rule.limits), true, p.tags ?? []]);
    }
    let ids: string[] = [];
    for (let window: number | null = firstWindow(p.limit); window !== null; ) {
      const rows = (await tx.q(p.byKey ? ctx.q.claimWindowByKey : ctx.q.claimWindow, [p.queue, p.now, p.limit, window, p.tags ?? []])) as unknown as WindowRow[];
      const picked = pickFromWindow(rows, rule, p.limit);
      ids = picked.ids;
      window = nextWindow(window, picked.read, ids.length, p.limit);
    }
    return ids.length === 0 ? [] : tx.q(ctx.q.claimIds, [ids, p.now, p.now + p.leaseMs, p.workerId ?? null]);
  }), `claim from ${p.queue}`)) as unknown as (PgJobRow & { sort_key: number | null })[];
  // A fifo claim's rows (the plain claim's, and its jobs without a key) have no sort key.
  return inClaimOrder(rows.map(({ sort_key, ...row }) => ({ key: sort_key ?? null, job: pgRowToJob(row) })), p.byKey === true);
}
