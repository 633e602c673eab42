import { compareClaimOrder, type Job } from '../../core/job.ts';
import { inClaimOrder, NO_CONCURRENCY } from '../concurrency-claim.ts';
import type { ClaimedJobs, ClaimParams } from '../store.ts';
import * as admin from './admin.ts';
import type { SqliteRateLimits } from './rate-limits.ts';
import { rowToJob, type JobRow } from './rows.ts';

/** What a claim writes with: the statements, the count ledger and the rate limit buckets. */
export interface ClaimWrites extends admin.Writes {
  rateLimits: SqliteRateLimits;
}

/**
 * Claims of the SQLite store (its jobsClaim runs this inside the group commit's transaction):
 * fifo, by sort key, under per-key limits, and under rate limits, whose buckets are read and
 * charged in the same transaction.
 */
export function jobsClaim(w: ClaimWrites, p: ClaimParams): ClaimedJobs {
  // A rate limit: at most the bucket's whole tokens.
  const bucket = p.rate ? w.rateLimits.open(p.rate, p.now) : null;
  const limit = bucket ? Math.min(p.limit, bucket.tokens) : p.limit;
  if (limit === 0) return Object.assign([], { heldUntil: bucket!.nextAt });
  admin.jobsExpire(w, 'expireQueue', p.now, p.limit, p.queue);
  w.counts.move(p.queue, 'scheduled', 'ready', Number(w.s.promoteQueue.run(p.now, p.queue, p.now).changes));
  const q = { ...p, limit };
  const jobs: ClaimedJobs = p.concurrency || p.keyRate ? claimLimited(w, q) : p.byKey ? claimByKey(w, q) : claimPlain(w, q);
  if (bucket) {
    const after = w.rateLimits.charge(p.rate!, bucket.row, jobs.length, p.now);
    // The bucket held jobs back: it had fewer tokens than asked and the claim used them all.
    if (limit < p.limit && jobs.length === limit) jobs.heldUntil = after.nextAt;
  }
  return jobs;
}

function claimPlain(w: ClaimWrites, p: ClaimParams): Job[] {
  const rows = w.s.claim.all(p.now + p.leaseMs, p.now, p.now, p.workerId ?? null, p.queue, p.now, p.limit) as unknown as JobRow[];
  w.counts.move(p.queue, 'ready', 'active', rows.length);
  return rows.map(rowToJob).sort(compareClaimOrder);
}

/**
 * A queue that is not fifo: jobs by sort key, then, when those run out, any without a key (added
 * by a process that had not yet seen the policy) in the fifo order.
 */
function claimByKey(w: ClaimWrites, p: ClaimParams): Job[] {
  const keyed = w.s.claimByKey.all(p.now + p.leaseMs, p.now, p.now, p.workerId ?? null, p.queue, p.now, p.limit) as unknown as (JobRow & { sort_key: number })[];
  keyed.sort((a, b) => a.sort_key - b.sort_key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const jobs = keyed.map(rowToJob);
  if (jobs.length < p.limit) {
    const rest = w.s.claim.all(p.now + p.leaseMs, p.now, p.now, p.workerId ?? null, p.queue, p.now, p.limit - jobs.length) as unknown as JobRow[];
    jobs.push(...rest.map(rowToJob).sort(compareClaimOrder));
  }
  w.counts.move(p.queue, 'ready', 'active', jobs.length);
  return jobs;
}

/**
 * A queue with per-key limits, group FIFO or per-key rate limits: one statement that counts the
 * queue's active jobs per key and group (and reads its keys' buckets) and leases what fits.
 * Inside the group's transaction, which every process writing the file takes in turn, so it
 * counts every lease made before it; the keys' tokens are charged in it too.
 */
function claimLimited(w: ClaimWrites, p: ClaimParams): ClaimedJobs {
  const rule = p.concurrency ?? NO_CONCURRENCY;
  const byKey = p.byKey === true;
  const keyRate = p.keyRate ? JSON.stringify(p.keyRate) : null;
  const args = [p.now + p.leaseMs, p.now, p.workerId ?? null, p.queue, p.limit, rule.limit, JSON.stringify(rule.limits), rule.groupFifo ? 1 : 0] as const;
  const statement = keyRate === null ? (byKey ? w.s.claimLimitedByKey : w.s.claimLimited) : byKey ? w.s.claimKeyRateByKey : w.s.claimKeyRate;
  const rows = (keyRate === null ? statement.all(...args) : statement.all(...args, keyRate)) as unknown as (JobRow & { sort_key: number | null })[];
  w.counts.move(p.queue, 'ready', 'active', rows.length);
  const jobs: ClaimedJobs = inClaimOrder(rows.map(({ sort_key, ...row }) => ({ key: sort_key, job: rowToJob(row) })), byKey);
  if (p.keyRate && keyRate !== null) {
    w.rateLimits.chargeKeys(p.queue, p.keyRate, rows.map((r) => r.concurrency_key), p.now);
    // Fewer than asked: when do the keys whose jobs wait only for tokens get their next one?
    if (jobs.length < p.limit) {
      const held = (byKey ? w.s.keyRateHeldByKey : w.s.keyRateHeld).get(...args, keyRate) as { held: number | null } | undefined;
      if (held?.held != null) jobs.heldUntil = held.held;
    }
  }
  return jobs;
}
