import type { DatabaseSync } from 'node:sqlite';
import type { DeadReason, JobState, Lease } from '../../core/job.ts';
import type { CompleteItem, ExtendItem, ExtendResult, FailItem, FailResult, LeaseMiss, LeaseResult, ReportItem, ShortenItem } from '../store.ts';
import { checkKeepLogs, logLinesJson, reportDoing, reportField } from '../job-report.ts';
import type { Writes } from './admin.ts';
import * as ordering from './ordering.ts';
import { refusedItemError } from './sqlite-errors.ts';

/**
 * The SQLite store's lease operations (complete, fail, extend, shorten, report, release), run by
 * the store inside its group commit; each notes how it moved jobs between states for the counts
 * (count-ledger.ts).
 */

/** What these writes use: the store's database, statements and counts. */
export interface LeaseWrites extends Writes {
  db: DatabaseSync;
}

export function jobsComplete(w: LeaseWrites, items: readonly CompleteItem[], now: number): LeaseResult[] {
  const withFlowParent = flowParents(w);
  return each(
    w.db,
    items,
    (it): LeaseResult => {
      if (w.s.complete.run(it.result, now, now, it.lease.jobId, it.lease.token).changes !== 1) return leaseMiss(w, it.lease);
      w.counts.move(queueOf(w, it.lease.jobId), 'active', 'completed');
      if (it.learn) ordering.learn(w.s, it.learn);
      return withFlowParent(it.lease.jobId, { ok: true as const });
    },
    (it, err) => refused(err, 'result', `complete job ${it.lease.jobId}`),
  );
}

export function jobsFail(w: LeaseWrites, items: readonly FailItem[], now: number): FailResult[] {
  const withFlowParent = flowParents(w);
  return each(
    w.db,
    items,
    (it): FailResult => {
      const row = w.s.fail.get(it.unrecoverable ? 1 : 0, it.retryAt, now, it.error, it.lease.jobId, it.lease.token) as
        | { queue: string; state: JobState; dead_reason: DeadReason | null }
        | undefined;
      if (!row) return leaseMiss(w, it.lease);
      w.counts.move(row.queue, 'active', row.state);
      const done = { ok: true as const, state: row.state, deadReason: row.dead_reason };
      return row.state === 'dead' ? withFlowParent(it.lease.jobId, done) : done;
    },
    (it, err) => refused(err, 'error', `record the failure of job ${it.lease.jobId}`),
  );
}

export function jobsExtend(w: LeaseWrites, items: readonly ExtendItem[], now: number): ExtendResult[] {
  return each(
    w.db,
    items,
    (it): ExtendResult => {
      const expires = now + it.leaseMs;
      const changed = w.s.extend.run(expires, now, it.workerId ?? null, it.lease.jobId, it.lease.token).changes;
      return changed === 1 ? { ok: true as const, leaseExpiresAt: expires } : leaseMiss(w, it.lease);
    },
    (it, err) => refused(err, 'leaseMs', `extend the lease of job ${it.lease.jobId}`),
  );
}

export function jobsShorten({ s }: LeaseWrites, items: readonly ShortenItem[], now: number): boolean[] {
  return items.map((it) => Number(s.shorten.run(it.until, now, it.lease.jobId, it.lease.token, it.expiresAt).changes) === 1);
}

export function jobsReport(w: LeaseWrites, items: readonly ReportItem[], now: number, keepLogs: number): LeaseResult[] {
  checkKeepLogs(keepLogs);
  return each(
    w.db,
    items,
    (it): LeaseResult => {
      const changed = w.s.report.run(it.progress ?? null, logLinesJson(it), keepLogs, now, it.lease.jobId, it.lease.token).changes;
      return changed === 1 ? { ok: true as const } : leaseMiss(w, it.lease);
    },
    (it, err) => refused(err, reportField(it), reportDoing(it)),
  );
}

export function jobsRelease(w: LeaseWrites, leases: readonly Lease[], now: number): LeaseResult[] {
  return leases.map((lease) => {
    if (w.s.release.run(now, now, lease.jobId, lease.token).changes !== 1) return leaseMiss(w, lease);
    w.counts.move(queueOf(w, lease.jobId), 'active', 'ready');
    return { ok: true as const };
  });
}

/**
 * For one batch of settles: `result`, with the flow the job just finished is a child of, if any
 * (docs/flows.md): the engine settles it next. Whether the store has any flow child is asked once
 * per batch, at its first finished job, so a store without flows pays one read per batch, not one
 * per job (inside the group's transaction: a flow added by another process is seen).
 */
function flowParents({ s }: LeaseWrites): <R extends { ok: true }>(id: string, result: R) => R & { flowParent?: string } {
  let any: boolean | undefined;
  return (id, result) => {
    any ??= (s.anyFlowChild.get() as { n: number }).n === 1;
    if (!any) return result;
    const row = s.flowParentOf.get(id) as { parent_id: string } | undefined;
    return row ? { ...result, flowParent: row.parent_id } : result;
  };
}

/** Why a lease-bearing operation matched no row: the job's state and token now. */
function leaseMiss({ s }: LeaseWrites, lease: Lease): LeaseMiss {
  const cur = s.leaseOf.get(lease.jobId) as { state: JobState; token: number } | undefined;
  return { ok: false, state: cur?.state ?? null, token: cur?.token ?? null };
}

/** An item whose statement SQLite refused: the job is unchanged (its lease still held), and the error says why. */
function refused(err: unknown, field: string, doing: string): LeaseMiss {
  return { ok: false, state: null, token: null, error: refusedItemError(err, field, doing) };
}

/**
 * The queue of a job this write just changed, for the counts. A lookup by key after the update
 * costs a fraction of what RETURNING adds to an UPDATE that rewrites the row's history.
 */
function queueOf({ s }: LeaseWrites, id: string): string {
  return (s.queueOf.get(id) as { queue: string }).queue;
}

/**
 * Applies independent items one statement each, inside the group's transaction. SQLite undoes a
 * failed statement alone and the transaction goes on, so only that item is `refused` and its
 * neighbours apply; a failure that ended the transaction (disk full, I/O) fails the call as a whole.
 */
export function each<I, R>(db: DatabaseSync, items: readonly I[], apply: (item: I) => R, refused: (item: I, err: unknown) => R): R[] {
  const out: R[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    try {
      out[i] = apply(item);
    } catch (err) {
      if (!db.isTransaction) throw err;
      out[i] = refused(item, err);
    }
  }
  return out;
}
