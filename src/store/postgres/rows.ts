import { leaseKey, type Job, type JobState, type Lease, type QueueStats } from '../../core/job.ts';
import type { QueueConfig } from '../../core/queue-config.ts';
import { rowToJob, type JobRow } from '../job-row.ts';
import { QueueStatsBuilder } from '../queue-stats.ts';
import type { ItemOutcome, LeaseMiss, NewJobRow, StoredQueue } from '../store.ts';

/** A job row as node-postgres returns it: int8 as number, jsonb parsed. */
export type PgJobRow = JobRow<unknown>;

export function pgRowToJob(row: PgJobRow): Job {
  return rowToJob(row, (value) => value);
}

export interface QueueRow {
  name: string;
  config: unknown;
  paused: boolean;
  created_at: number;
  updated_at: number;
}

export function toStoredQueue(row: QueueRow): StoredQueue {
  return { name: row.name, config: row.config as QueueConfig, paused: row.paused, createdAt: row.created_at, updatedAt: row.updated_at };
}

/**
 * The parallel arrays the insert statement unnests, the NOTIFY channel (or null: notifications off,
 * or every ready row served by the adding process), then the groups
 * ($14), start deadlines ($15), costs ($16), and each row's order ($17 its policy, NULL for fifo;
 * $18 its parameter: agingMs, costFactor, or the weight of the row's group), then the concurrency
 * keys ($19) and the required resource tags ($20).
 */
export function insertParams(rows: readonly NewJobRow[], channel: string | null): unknown[] {
  return [
    rows.map((r) => r.id), rows.map((r) => r.queue), rows.map((r) => r.name), rows.map((r) => r.payload),
    rows.map((r) => r.priority), rows.map((r) => r.state), rows.map((r) => r.runAt), rows.map((r) => r.maxAttempts),
    rows.map((r) => r.maxStalls), rows.map((r) => r.createdAt), rows.map((r) => r.timeoutMs), rows.map((r) => r.trace), wakesOthers(rows) ? channel : null,
    rows.map((r) => r.group), rows.map((r) => r.expiresAt ?? null), rows.map((r) => r.cost ?? null),
    rows.map((r) => r.order?.policy ?? null), rows.map(orderParameter), rows.map((r) => r.concurrencyKey ?? null),
    rows.map((r) => r.requires ?? null), rows.map((r) => r.lease?.expiresAt ?? null), rows.map((r) => r.lease?.workerId ?? null),
  ];
}

/** Whether some ready row is neither `served` nor leased by the adding process: only then does the insert NOTIFY. */
function wakesOthers(rows: readonly NewJobRow[]): boolean {
  for (const r of rows) if (r.state === 'ready' && r.served !== true && !r.lease) return true;
  return false;
}

/** The statement and parameters of an insert of rows without idempotency keys: the one that issues fair tags when a row needs one. */
export function insertStatement(q: { insert: string; insertFair: string }, rows: readonly NewJobRow[], channel: string | null): [string, unknown[]] {
  return [hasFairRows(rows) ? q.insertFair : q.insert, insertParams(rows, channel)];
}

/** Whether an insert of `rows` needs the statement that issues fair tags. */
export const hasFairRows = (rows: readonly NewJobRow[]): boolean => rows.some((r) => r.order?.policy === 'fair');

function orderParameter(r: NewJobRow): number | null {
  const o = r.order;
  if (!o) return null;
  if (o.policy === 'priority') return o.agingMs;
  if (o.policy === 'sjf') return o.costFactor;
  return r.group === null ? 1 : o.weights[r.group] ?? 1;
}

/** Stats from the rows of the `stats` statement (one row per queue, per count, per oldest ready time). */
export function statsFromRows(rows: readonly Record<string, unknown>[], queue: string | null, now: number): QueueStats[] {
  const stats = new QueueStatsBuilder(now);
  for (const r of rows as unknown as { queue: string; kind: string; state: JobState | null; n: number; at: number | null; paused: boolean | null }[]) {
    if (r.kind === 'queue') stats.paused(r.queue, r.paused === true);
    else if (r.kind === 'count') stats.count(r.queue, r.state!, r.n);
    else if (r.kind === 'oldest') stats.oldestReady(r.queue, r.at);
  }
  return stats.build(queue);
}

/** An add that stored its job. */
export const STORED: ItemOutcome = Object.freeze({ ok: true as const });

/** The input an insert's data error is about: U+0000 in text (22021) can only be in the name (JSON text escapes it); otherwise the payload. */
export const insertField = (sqlstate: string): string => (sqlstate === '22021' ? 'name' : 'payload');

/** The leases a statement changed (it returns `id` and `token`), keyed as leaseKey keys them. */
export function leasesOf<R extends Record<string, unknown>>(rows: readonly R[]): Map<string, R> {
  return new Map(rows.map((r) => [leaseKey({ jobId: r.id as string, token: r.token as number }), r]));
}

/**
 * One result per lease: `ok(hit)` for those the statement changed (in `hits`, keyed by lease:
 * job id and token, so that of two leases of one job in a call only the one held counts), else
 * the job's current state and token, read in one query (`lookup`), so the caller can say why.
 */
export async function leaseResults<H, R>(
  lookup: (ids: readonly string[]) => Promise<Map<string, { state: JobState; token: number }>>,
  leases: readonly Lease[], hits: Map<string, H>, ok: (hit: H) => R, refused: Map<number, Error> | null = null,
): Promise<(R | LeaseMiss)[]> {
  const misses = await lookup(leases.filter((l, i) => !hits.has(leaseKey(l)) && !refused?.has(i)).map((l) => l.jobId));
  return leases.map((l, i) => {
    if (hits.has(leaseKey(l))) return ok(hits.get(leaseKey(l))!);
    const error = refused?.get(i);
    if (error) return { ok: false as const, state: null, token: null, error };
    const cur = misses.get(l.jobId);
    return { ok: false as const, state: cur?.state ?? null, token: cur?.token ?? null };
  });
}
