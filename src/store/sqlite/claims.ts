import { compareClaimOrder, type Job } from '../../core/job.ts';
import type { ConcurrencyRule } from '../../core/queue-config.ts';
import { cannotBind, firstWindow, inClaimOrder, nextWindow, pickFromWindow, type WindowRow } from '../concurrency-claim.ts';
import type { ClaimParams } from '../store.ts';
import type { Writes } from './admin.ts';
import { rowToJob, type JobRow } from './rows.ts';

/**
 * The claims of the SQLite store (its jobsClaim delegates here), inside the group's transaction,
 * after due jobs were promoted and expired ones moved to dead: fifo, by sort key, and under
 * per-key limits or group FIFO. Each notes the jobs it leased for the counts.
 */

export function jobsClaim(w: Writes, p: ClaimParams): Job[] {
  if (p.concurrency && !cannotBind(p.concurrency, activeJobs(w, p.queue), p.limit)) return claimLimited(w, p, p.concurrency);
  if (p.byKey) return claimByKey(w, p);
  const rows = w.s.claim.all(p.now + p.leaseMs, p.now, p.now, p.workerId ?? null, p.queue, p.now, tagsParam(p), p.limit) as unknown as JobRow[];
  w.counts.move(p.queue, 'ready', 'active', rows.length);
  return rows.map(rowToJob).sort(compareClaimOrder);
}

/** The queue's active jobs, exact inside the group's transaction: its row of queue_counts plus what the group noted. */
function activeJobs({ s, counts }: Writes, queue: string): number {
  return Number((s.activeCount.get(queue) as { n: number }).n) + counts.noted(queue, 'active');
}

/**
 * A queue that is not fifo: jobs by sort key, then, when those run out, any without a key (added
 * by a process that had not yet seen the policy) in the fifo order.
 */
function claimByKey({ s, counts }: Writes, p: ClaimParams): Job[] {
  const keyed = s.claimByKey.all(p.now + p.leaseMs, p.now, p.now, p.workerId ?? null, p.queue, p.now, tagsParam(p), p.limit) as unknown as (JobRow & { sort_key: number })[];
  keyed.sort((a, b) => a.sort_key - b.sort_key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const jobs = keyed.map(rowToJob);
  if (jobs.length < p.limit) {
    const rest = s.claim.all(p.now + p.leaseMs, p.now, p.now, p.workerId ?? null, p.queue, p.now, tagsParam(p), p.limit - jobs.length) as unknown as JobRow[];
    jobs.push(...rest.map(rowToJob).sort(compareClaimOrder));
  }
  counts.move(p.queue, 'ready', 'active', jobs.length);
  return jobs;
}

/**
 * A queue with per-key limits or group FIFO. The group's transaction, which every process writing
 * the file takes in turn, holds the pick and the lease together, so the pick counts every lease
 * made before it. Under group FIFO, one statement reads the queue's live jobs and leases what
 * fits; with per-key limits alone, the pick reads a window of the ready jobs in claim order (read
 * again larger while keys at their limits leave it short: see concurrency-claim.ts), then one
 * statement leases the jobs it picked.
 */
function claimLimited({ s, counts }: Writes, p: ClaimParams, rule: ConcurrencyRule): Job[] {
  let rows: (JobRow & { sort_key: number | null })[];
  if (rule.groupFifo) {
    const statement = p.byKey ? s.claimLimitedByKey : s.claimLimited;
    rows = statement.all(p.now + p.leaseMs, p.now, p.workerId ?? null, p.queue, p.limit, rule.limit, JSON.stringify(rule.limits), 1, tagsParam(p)) as unknown as typeof rows;
  } else {
    const read = p.byKey ? s.claimWindowByKey : s.claimWindow;
    let ids: string[] = [];
    for (let window: number | null = firstWindow(p.limit); window !== null; ) {
      const picked = pickFromWindow(read.all(p.now, p.queue, window, tagsParam(p)) as unknown as WindowRow[], rule, p.limit);
      ids = picked.ids;
      window = nextWindow(window, picked.read, ids.length, p.limit);
    }
    rows = ids.length === 0 ? [] : (s.claimIds.all(p.now + p.leaseMs, p.now, p.workerId ?? null, JSON.stringify(ids)) as unknown as typeof rows);
  }
  counts.move(p.queue, 'ready', 'active', rows.length);
  return inClaimOrder(rows.map(({ sort_key, ...row }) => ({ key: sort_key, job: rowToJob(row) })), p.byKey === true);
}

/** The claiming worker's tags as the claim statements take them: a JSON array. */
function tagsParam(p: ClaimParams): string {
  return p.tags && p.tags.length > 0 ? JSON.stringify(p.tags) : '[]';
}
