import type { DeadReason, JobState } from '../../core/job.ts';
import type { CancelResult, DeleteResult, ReapedJob, RetryResult } from '../store.ts';
import type { CountLedger } from './count-ledger.ts';
import type { prepareStatements } from './statements.ts';

/**
 * The SQLite store's operator actions (cancel, retry, delete) and upkeep (reap, promote, purge,
 * retention), run by the store inside its group commit; each notes how it moved jobs between
 * states for the counts (count-ledger.ts).
 */

/** What these writes use: the store's statements and its counts. */
export interface Writes {
  s: ReturnType<typeof prepareStatements>;
  counts: CountLedger;
}

type Current = { state: JobState; queue: string; token: number };

export function jobsCancel({ s, counts }: Writes, ids: readonly string[], now: number): CancelResult[] {
  return ids.map((id): CancelResult => {
    const cur = s.stateOf.get(id) as Current | undefined;
    if (!cur) return { found: false };
    const changed = s.cancel.run(now, now, now, id).changes;
    if (changed === 1) counts.move(cur.queue, cur.state, 'cancelled');
    return { found: true, queue: cur.queue, previous: cur.state, token: cur.token, cancelled: changed === 1 };
  });
}

export function jobsRetry({ s, counts }: Writes, ids: readonly string[], now: number): RetryResult[] {
  return ids.map((id): RetryResult => {
    const cur = s.stateOf.get(id) as Current | undefined;
    if (!cur) return { found: false };
    const changed = s.retry.run(now, now, id).changes;
    if (changed === 1) counts.move(cur.queue, cur.state, 'ready');
    return { found: true, queue: cur.queue, previous: cur.state, retried: changed === 1 };
  });
}

/**
 * Moves jobs never started and past their start deadline to dead (ready ones first), at most
 * `limit`, of `queue` (expireQueue: a claim's) or of every queue (expireAll); how many per queue.
 */
export function jobsExpire({ s, counts }: Writes, which: 'expireQueue' | 'expireAll', now: number, limit: number, queue?: string): Record<string, number> {
  const per: Record<string, number> = {};
  let left = limit;
  for (const state of ['ready', 'scheduled'] as const) {
    if (left === 0) break;
    const args = queue === undefined ? [now, left] : [now, left, queue];
    for (const { queue: q } of s[which][state].all(...args) as { queue: string }[]) {
      per[q] = (per[q] ?? 0) + 1;
      counts.move(q, state, 'dead');
      left--;
    }
  }
  return per;
}

export function jobsDelete({ s, counts }: Writes, ids: readonly string[]): DeleteResult[] {
  return ids.map((id): DeleteResult => {
    const cur = s.stateOf.get(id) as Current | undefined;
    if (!cur) return { found: false };
    const changed = s.deleteJob.run(id).changes;
    if (changed === 1) counts.move(cur.queue, cur.state, null);
    return { found: true, queue: cur.queue, previous: cur.state, deleted: changed === 1 };
  });
}

export function jobsReapExpired({ s, counts }: Writes, p: { now: number; limit: number }): ReapedJob[] {
  const rows = s.reap.all(p.now, p.limit) as unknown as { id: string; token: number; queue: string; state: JobState; dead_reason: DeadReason | null }[];
  for (const r of rows) counts.move(r.queue, 'active', r.state);
  return rows.map((r) => ({ id: r.id, token: r.token, queue: r.queue, state: r.state, deadReason: r.dead_reason }));
}

export function jobsPromoteDue({ s, counts }: Writes, p: { now: number; limit: number }): string[] {
  const rows = s.promoteAll.all(p.now, p.now, p.limit) as unknown as { queue: string }[];
  for (const r of rows) counts.move(r.queue, 'scheduled', 'ready');
  return [...new Set(rows.map((r) => r.queue))];
}

export function jobsPurge({ s, counts }: Writes, p: { queue: string; limit: number }): number {
  const rows = s.purge.all(p.queue, p.limit) as { state: JobState }[];
  for (const r of rows) counts.move(p.queue, r.state, null);
  return rows.length;
}

export function jobsDeleteFinished({ s, counts }: Writes, p: { before: Record<'completed' | 'dead' | 'cancelled', number>; limit: number }): number {
  let deleted = 0;
  for (const state of ['completed', 'dead', 'cancelled'] as const) {
    const rows = s.deleteFinished[state].all(p.before[state], p.limit - deleted) as { queue: string }[];
    for (const r of rows) counts.move(r.queue, state, null);
    deleted += rows.length;
    if (deleted >= p.limit) break;
  }
  return deleted;
}
