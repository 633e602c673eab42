import { compareClaimOrder, type Job } from '../../core/job.ts';
import type { ConcurrencyRule } from '../../core/queue-config.ts';
import { cannotBind, firstWindow, inClaimOrder, nextWindow, NO_CONCURRENCY, pickFromWindow, type WindowRow } from '../concurrency-claim.ts';
import { KeyTokens } from '../key-rate-claim.ts';
import type { ClaimedJobs, ClaimParams } from '../store.ts';
import * as admin from './admin.ts';
import type { SqliteRateLimits } from './rate-limits.ts';
import { rowToJob, type JobRow } from './rows.ts';

/** What a claim writes with: the statements, the count ledger and the rate limit buckets. */
export interface ClaimWrites extends admin.Writes {
  rateLimits: SqliteRateLimits;
}

/**
 * The claims of the SQLite store (its jobsClaim runs this inside the group commit's transaction):
 * fifo, by sort key, and under per-key limits, group FIFO or per-key rate limits; every one leases
 * only jobs whose required resource tags the worker's cover (ClaimParams.tags). A queue's rate
 * limit bucket is read and charged in the same transaction: the claim leases at most its whole
 * tokens. Due jobs are promoted and expired ones moved to dead first; each claim notes the jobs it
 * leased for the counts.
 */
export function jobsClaim(w: ClaimWrites, p: ClaimParams): ClaimedJobs {
  // A rate limit: at most the bucket's whole tokens.
  const bucket = p.rate ? w.rateLimits.open(p.rate, p.now) : null;
  const limit = bucket ? Math.min(p.limit, bucket.tokens) : p.limit;
  if (limit === 0) return Object.assign([], { heldUntil: bucket!.nextAt });
  admin.jobsExpire(w, 'expireQueue', p.now, p.limit, p.queue);
  w.counts.move(p.queue, 'scheduled', 'ready', Number(w.s.promoteQueue.run(p.now, p.queue, p.now).changes));
  const q = { ...p, limit };
  const jobs: ClaimedJobs = limited(w, q) ? claimLimited(w, q, p.concurrency ?? NO_CONCURRENCY) : p.byKey ? claimByKey(w, q) : claimPlain(w, q);
  if (bucket) {
    const after = w.rateLimits.charge(p.rate!, bucket.row, jobs.length, p.now);
    // The bucket held jobs back: it had fewer tokens than asked and the claim used them all.
    if (limit < p.limit && jobs.length === limit) jobs.heldUntil = after.nextAt;
  }
  return jobs;
}

/**
 * Whether the claim runs as the limited one: always under per-key rate limits (a key out of tokens
 * holds its jobs back whatever runs); under per-key limits or group FIFO unless it cannot take any
 * key to its limit (cannotBind), when it is the plain claim of the queue's order.
 */
function limited(w: ClaimWrites, p: ClaimParams): boolean {
  if (p.keyRate) return true;
  return p.concurrency !== undefined && !cannotBind(p.concurrency, activeJobs(w, p.queue), p.limit);
}

/** The queue's active jobs, exact inside the group's transaction: its row of queue_counts plus what the group noted. */
function activeJobs({ s, counts }: admin.Writes, queue: string): number {
  return Number((s.activeCount.get(queue) as { n: number }).n) + counts.noted(queue, 'active');
}

function claimPlain({ s, counts }: admin.Writes, p: ClaimParams): Job[] {
  const rows = s.claim.all(p.now + p.leaseMs, p.now, p.now, p.workerId ?? null, p.queue, p.now, tagsParam(p), p.limit) as unknown as JobRow[];
  counts.move(p.queue, 'ready', 'active', rows.length);
  return rows.map(rowToJob).sort(compareClaimOrder);
}

/**
 * A queue that is not fifo: jobs by sort key, then, when those run out, any without a key (added
 * by a process that had not yet seen the policy) in the fifo order.
 */
function claimByKey({ s, counts }: admin.Writes, p: ClaimParams): Job[] {
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

type LimitedRow = JobRow & { sort_key: number | null };

/**
 * A queue with per-key limits, group FIFO or per-key rate limits. The group's transaction, which
 * every process writing the file takes in turn, holds the pick, the lease and the charge of the
 * keys' tokens together, so the pick counts every lease and every token taken before it. Under
 * group FIFO, one statement reads the queue's live jobs (and its keys' buckets) and leases what
 * fits; otherwise the pick reads a window of the ready jobs in claim order (read again larger
 * while keys at their limits or out of tokens leave it short: see concurrency-claim.ts), then one
 * statement leases the jobs it picked. A claim that leased fewer than its limit and left jobs
 * behind only for their keys' tokens reports the earliest next token (heldUntil).
 */
function claimLimited(w: ClaimWrites, p: ClaimParams, rule: ConcurrencyRule): ClaimedJobs {
  const { s, counts } = w;
  let rows: LimitedRow[];
  let heldUntil: number | null = null;
  if (rule.groupFifo) {
    const args = [p.now + p.leaseMs, p.now, p.workerId ?? null, p.queue, p.limit, rule.limit, JSON.stringify(rule.limits), 1, tagsParam(p)] as const;
    if (!p.keyRate) rows = (p.byKey ? s.claimLimitedByKey : s.claimLimited).all(...args) as unknown as LimitedRow[];
    else {
      const keyRate = JSON.stringify(p.keyRate);
      rows = (p.byKey ? s.claimKeyRateByKey : s.claimKeyRate).all(...args, keyRate) as unknown as LimitedRow[];
      w.rateLimits.chargeKeys(p.queue, p.keyRate, rows.map((r) => r.concurrency_key), p.now);
      // Fewer than asked: when do the keys whose jobs wait only for tokens get their next one (read after the charge)?
      if (rows.length < p.limit) heldUntil = ((p.byKey ? s.keyRateHeldByKey : s.keyRateHeld).get(...args, keyRate) as { held: number | null } | undefined)?.held ?? null;
    }
  } else {
    const read = p.byKey ? s.claimWindowByKey : s.claimWindow;
    const keys = p.keyRate ? new KeyTokens(p.queue, p.keyRate, p.now) : null;
    let picked: ReturnType<typeof pickFromWindow> = { ids: [], read: 0, short: new Set() };
    for (let window: number | null = firstWindow(p.limit); window !== null; ) {
      const windowRows = read.all(p.now, p.queue, window, tagsParam(p)) as unknown as WindowRow[];
      if (keys) for (const [name, key] of keys.unread(windowRows)) keys.add(key, w.rateLimits.rowOf(name));
      picked = pickFromWindow(windowRows, rule, p.limit, keys?.tokens ?? null);
      window = nextWindow(window, picked.read, picked.ids.length, p.limit);
    }
    rows = picked.ids.length === 0 ? [] : (s.claimIds.all(p.now + p.leaseMs, p.now, p.workerId ?? null, JSON.stringify(picked.ids)) as unknown as LimitedRow[]);
    if (keys && p.keyRate) {
      w.rateLimits.chargeKeys(p.queue, p.keyRate, rows.map((r) => r.concurrency_key), p.now);
      if (rows.length < p.limit) heldUntil = keys.heldUntil(picked.short, rows.map((r) => r.concurrency_key));
    }
  }
  counts.move(p.queue, 'ready', 'active', rows.length);
  const jobs: ClaimedJobs = inClaimOrder(rows.map(({ sort_key, ...row }) => ({ key: sort_key, job: rowToJob(row) })), p.byKey === true);
  if (heldUntil !== null) jobs.heldUntil = Number(heldUntil);
  return jobs;
}

/** The claiming worker's tags as the claim statements take them: a JSON array. */
function tagsParam(p: ClaimParams): string {
  return p.tags && p.tags.length > 0 ? JSON.stringify(p.tags) : '[]';
}
