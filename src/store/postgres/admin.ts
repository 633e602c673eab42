import type { DeadReason, JobState } from '../../core/job.ts';
import type { CancelResult, DeleteResult, ReapedJob, RetryResult, Store } from '../store.ts';
import type { PgContext } from './cluster.ts';
import type { TxExecutor } from './pg-client.ts';
import type { PgStatements } from './statements.ts';

/**
 * What the store's job-by-id operations need beyond {@link PgContext}: the current state of
 * jobs wherever they are, and the channel that wakes consumers (null when notify is off).
 */
export interface PgJobsContext extends PgContext<Store> {
  /** Current state and token of jobs, wherever they are. */
  lookup(ids: readonly string[]): Promise<Map<string, { state: JobState; token: number; queue: string }>>;
  notifyChannel: string | null;
}

/**
 * Operator actions on jobs by id (cancel, retry, delete) and upkeep (reap expired leases,
 * promote due jobs, purge, delete finished), for the PostgreSQL store (its methods delegate here).
 */

export async function jobsCancel(ctx: PgJobsContext, ids: readonly string[], now: number): Promise<CancelResult[]> {
  const { live, moved } = await ctx.run(
    () => ctx.transaction(async (tx) => {
      const live = await tx.q(ctx.q.lockLive, [ids as string[]]);
      const moved = await tx.q(ctx.q.cancel, [ids as string[], now]);
      return { live, moved };
    }),
    'cancel jobs',
  );
  const previous = new Map((live as unknown as { id: string; state: JobState; queue: string; token: number }[]).map((r) => [r.id, r]));
  const cancelled = new Set((moved as unknown as { id: string }[]).map((r) => r.id));
  const finished = await ctx.lookup(ids.filter((id) => !previous.has(id)));
  return ids.map((id): CancelResult => {
    const p = previous.get(id);
    if (p) return { found: true, queue: p.queue, previous: p.state, token: p.token, cancelled: cancelled.has(id) };
    const f = finished.get(id);
    return f ? { found: true, queue: f.queue, previous: f.state, token: f.token, cancelled: false } : { found: false };
  });
}

export async function jobsRetry(ctx: PgJobsContext, ids: readonly string[], now: number): Promise<RetryResult[]> {
  const { before, retried } = await ctx.run(
    () => ctx.transaction(async (tx) => {
      const before = await tx.q(ctx.q.lockAny, [ids as string[]]);
      const a = await tx.q(ctx.q.retryFinished, [ids as string[], now]);
      const b = await tx.q(ctx.q.retryScheduled, [ids as string[], now]);
      const channel = ctx.notifyChannel;
      if (channel && a.length + b.length > 0) await tx.q(`SELECT pg_notify($1, q) FROM unnest($2::text[]) AS q`, [channel, [...new Set([...a, ...b].map((r) => r.queue as string))]]);
      return { before, retried: [...a, ...b] };
    }),
    'retry jobs',
  );
  const prev = new Map((before as unknown as { id: string; state: JobState; queue: string }[]).map((r) => [r.id, r]));
  const done = new Set((retried as unknown as { id: string }[]).map((r) => r.id));
  return ids.map((id): RetryResult => {
    const p = prev.get(id);
    return p ? { found: true, queue: p.queue, previous: p.state, retried: done.has(id) } : { found: false };
  });
}

export async function jobsDelete(ctx: PgJobsContext, ids: readonly string[]): Promise<DeleteResult[]> {
  if (ids.length === 0) return [];
  const { locked, gone } = await ctx.run(
    () => ctx.transaction(async (tx) => {
      // Locked first in both tables: a claim skips these rows, a retry or ack waits, so `previous` is the state deleted from.
      const locked = await tx.q(ctx.q.lockAny, [ids as string[]]);
      const live = await tx.q(ctx.q.deleteLiveById, [ids as string[]]);
      const finished = await tx.q(ctx.q.deleteFinishedById, [ids as string[]]);
      return { locked, gone: [...live, ...finished] };
    }),
    'delete jobs',
  );
  type Found = { id: string; queue: string; state: JobState };
  const deleted = new Map((gone as unknown as Found[]).map((r) => [r.id, r]));
  const kept = new Map((locked as unknown as Found[]).map((r) => [r.id, r]));
  // Neither locked nor deleted: unknown, or moving between the tables when the lock was taken.
  const moved = await ctx.lookup(ids.filter((id) => !deleted.has(id) && !kept.has(id)));
  return ids.map((id): DeleteResult => {
    const d = deleted.get(id);
    if (d) return { found: true, queue: d.queue, previous: d.state, deleted: true };
    const k = kept.get(id) ?? moved.get(id);
    return k ? { found: true, queue: k.queue, previous: k.state, deleted: false } : { found: false };
  });
}

export async function jobsPurge(ctx: PgJobsContext, p: { queue: string; limit: number }): Promise<number> {
  return (await ctx.run(() => ctx.db.q(ctx.q.purge, [p.queue, p.limit]), 'purge a queue')).count;
}

export async function jobsDeleteFinished(ctx: PgJobsContext, p: { before: Record<'completed' | 'dead' | 'cancelled', number>; limit: number }): Promise<number> {
  let deleted = 0;
  for (const state of ['completed', 'dead', 'cancelled'] as const) {
    const r = await ctx.run(() => ctx.db.q(ctx.q.deleteFinished, [state, p.before[state], p.limit - deleted]), 'delete finished jobs');
    deleted += r.count;
    if (deleted >= p.limit) break;
  }
  return deleted;
}

export async function jobsReapExpired(ctx: PgJobsContext, p: { now: number; limit: number }): Promise<ReapedJob[]> {
  return ctx.run(
    () => ctx.transaction(async (tx) => ctx.reap(tx, (await tx.q(ctx.q.lockExpired, [p.now, p.limit])).map((r) => r.id as string), p.now)),
    'reap expired leases',
  );
}

export async function jobsExpire(ctx: PgJobsContext, p: { now: number; limit: number }): Promise<Record<string, number>> {
  const rows = await ctx.run(() => ctx.db.q(ctx.q.expire, [p.limit, p.now]), 'dead jobs past their start deadline');
  const per: Record<string, number> = {};
  for (const { queue } of rows as unknown as { queue: string }[]) per[queue] = (per[queue] ?? 0) + 1;
  return per;
}

export async function jobsPromoteDue(ctx: PgJobsContext, p: { now: number; limit: number }): Promise<string[]> {
  const rows = await ctx.run(() => ctx.db.q(ctx.q.promote, [p.now, p.limit, ctx.notifyChannel]), 'promote due jobs');
  return [...new Set((rows as unknown as { queue: string }[]).map((r) => r.queue))];
}

/** Ends the leases of `ids` (locked by the caller) as expired attempts: dead when used up, else ready. */
export async function reapLocked(q: PgStatements, tx: TxExecutor, ids: string[], now: number, channel: string | null): Promise<ReapedJob[]> {
  if (ids.length === 0) return [];
  const rows = [...(await tx.q(q.reapDead, [ids, now])), ...(await tx.q(q.reapReady, [ids, now, channel]))];
  return (rows as unknown as { id: string; token: number; queue: string; state: JobState; dead_reason: DeadReason | null }[]).map((r) => ({
    id: r.id, token: r.token, queue: r.queue, state: r.state, deadReason: r.dead_reason ?? null,
  }));
}
