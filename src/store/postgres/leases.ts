import { leaseKey, type DeadReason, type JobState, type Lease } from '../../core/job.ts';
import type { CompleteItem, ExtendItem, ExtendResult, FailItem, FailResult, LeaseResult, ReportItem, ShortenItem } from '../store.ts';
import { checkKeepLogs, reportDoing, reportField } from '../job-report.ts';
import type { PgJobsContext } from './admin.ts';
import type { Rows } from './pg-client.ts';
import { mergeReports, reportedLeases, reportParams } from './report.ts';
import { leaseResults, leasesOf } from './rows.ts';

/**
 * What the lease operations need beyond {@link PgJobsContext}: the store's applyEach (refused if
 * closed, each part isolated: a savepoint inside a bound transaction).
 */
export interface PgLeaseContext extends PgJobsContext {
  applyEach<I>(
    items: readonly I[],
    run: (batch: readonly I[]) => Promise<Rows | Record<string, unknown>[]>,
    doing: string,
    field: string | ((sqlstate: string, item?: I) => string),
    doingItem: (item: I) => string,
  ): Promise<{ rows: Record<string, unknown>[]; refused: Map<number, Error> | null }>;
}

/** Operations on held leases (ack, fail, extend, shorten, report, release) and run time estimates, for the PostgreSQL store (its methods delegate here). */

export async function jobsComplete(ctx: PgLeaseContext, items: readonly CompleteItem[], now: number): Promise<LeaseResult[]> {
  const { rows, refused } = await ctx.applyEach(
    items,
    (batch) => ctx.db.q(ctx.q.complete, [batch.map((i) => i.lease.jobId), batch.map((i) => i.lease.token), batch.map((i) => i.result), now]),
    'complete jobs', 'result', (i) => `complete job ${i.lease.jobId}`,
  );
  const done = leasesOf(rows);
  const learned = items.filter((i) => i.learn && done.has(leaseKey(i.lease))).map((i) => i.learn!);
  if (learned.length > 0) await learn(ctx, learned);
  return leaseResults((ids) => ctx.lookup(ids), items.map((i) => i.lease), done, (r) => (r.flow_parent ? { ok: true as const, flowParent: r.flow_parent as string } : { ok: true as const }), refused);
}

/** Policy sjf: folds the run times of applied acks into their names' estimates. An estimate is a hint: a failure to store one fails no ack. */
async function learn(ctx: PgLeaseContext, samples: readonly NonNullable<CompleteItem['learn']>[]): Promise<void> {
  const params = [samples.map((l) => l.queue), samples.map((l) => l.name), samples.map((l) => l.runMs), samples.map((l) => l.weightPct)];
  try {
    await ctx.db.q(ctx.q.estimatesLearn, params);
  } catch {
    // The acks are stored; the next samples of the name teach the estimate.
  }
}

export async function runEstimateGet(ctx: PgLeaseContext, queue: string, name: string): Promise<number | null> {
  const rows = await ctx.run(() => ctx.db.q(ctx.q.estimateGet, [queue, name]), 'read a run time estimate');
  return rows[0] ? (rows[0].mean_ms as number) : null;
}

export async function jobsFail(ctx: PgLeaseContext, items: readonly FailItem[], now: number): Promise<FailResult[]> {
  const channel = ctx.notifyChannel;
  const { rows, refused } = await ctx.applyEach(
    items,
    (batch) => {
      const params = [
        batch.map((i) => i.lease.jobId), batch.map((i) => i.lease.token), batch.map((i) => i.error),
        batch.map((i) => i.retryAt), batch.map((i) => (i.unrecoverable ? 1 : 0)), now,
      ];
      return ctx.transaction(async (tx) => [...(await tx.q(ctx.q.failDead, params)), ...(await tx.q(ctx.q.failRetry, [...params, channel]))]);
    },
    'record failed attempts', 'error', (i) => `record the failed attempt of job ${i.lease.jobId}`,
  );
  const hits = leasesOf(rows as unknown as { id: string; token: number; state: JobState; dead_reason: DeadReason | null; flow_parent?: string | null }[]);
  return leaseResults((ids) => ctx.lookup(ids), items.map((i) => i.lease), hits,
    (r) => ({ ok: true as const, state: r.state, deadReason: r.dead_reason, ...(r.flow_parent ? { flowParent: r.flow_parent } : {}) }), refused);
}

export async function jobsExtend(ctx: PgLeaseContext, items: readonly ExtendItem[], now: number): Promise<ExtendResult[]> {
  const { rows, refused } = await ctx.applyEach(
    items,
    (batch) => ctx.db.q(ctx.q.extend, [batch.map((i) => i.lease.jobId), batch.map((i) => i.lease.token), batch.map((i) => now + i.leaseMs), now, batch.map((i) => i.workerId ?? null)]),
    'extend leases', 'leaseMs', (i) => `extend the lease of job ${i.lease.jobId}`,
  );
  const hits = leasesOf(rows as unknown as { id: string; token: number; lease_expires_at: number }[]);
  return leaseResults((ids) => ctx.lookup(ids), items.map((i) => i.lease), hits, (r) => ({ ok: true as const, leaseExpiresAt: r.lease_expires_at }), refused);
}

export async function jobsShorten(ctx: PgLeaseContext, items: readonly ShortenItem[], now: number): Promise<boolean[]> {
  const rows = await ctx.run(
    () => ctx.db.q(ctx.q.shorten, [items.map((i) => i.lease.jobId), items.map((i) => i.lease.token), items.map((i) => i.expiresAt), items.map((i) => i.until), now]),
    'shorten leases',
  );
  const hit = new Set((rows as unknown as { id: string; token: number }[]).map((r) => `${r.id}/${r.token}`));
  return items.map((i) => hit.has(`${i.lease.jobId}/${i.lease.token}`));
}

export async function jobsReport(ctx: PgLeaseContext, items: readonly ReportItem[], now: number, keepLogs: number): Promise<LeaseResult[]> {
  checkKeepLogs(keepLogs);
  const { merged, of } = mergeReports(items);
  const { rows, refused } = await ctx.applyEach(
    merged, (batch) => ctx.db.q(ctx.q.report, reportParams(batch, now, keepLogs)),
    'report progress and log lines', (_, item) => (item ? reportField(item) : 'progress or logs'), reportDoing,
  );
  // Keyed by lease, not job: of two leases of one job in a call, only the held one applied.
  const results = await leaseResults((ids) => ctx.lookup(ids), merged.map((i) => i.lease), reportedLeases(rows), () => ({ ok: true as const }), refused);
  return of.map((m) => results[m]!);
}

export async function jobsRelease(ctx: PgLeaseContext, leases: readonly Lease[], now: number): Promise<LeaseResult[]> {
  const rows = await ctx.run(
    () => ctx.db.q(ctx.q.release, [leases.map((l) => l.jobId), leases.map((l) => l.token), now, ctx.notifyChannel]),
    'release jobs',
  );
  return leaseResults((ids) => ctx.lookup(ids), leases, leasesOf(rows), () => ({ ok: true as const }));
}
