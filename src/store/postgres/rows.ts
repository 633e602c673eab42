import type { Job, JobState, QueueStats } from '../../core/job.ts';
import type { QueueConfig } from '../../core/queue-config.ts';
import { rowToJob, type JobRow } from '../job-row.ts';
import { QueueStatsBuilder } from '../queue-stats.ts';
import type { NewJobRow, StoredQueue } from '../store.ts';

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

/** The parallel arrays the insert statement unnests, then the NOTIFY channel (or null). */
export function insertParams(rows: readonly NewJobRow[], channel: string | null): unknown[] {
  return [
    rows.map((r) => r.id), rows.map((r) => r.queue), rows.map((r) => r.name), rows.map((r) => r.payload),
    rows.map((r) => r.priority), rows.map((r) => r.state), rows.map((r) => r.runAt), rows.map((r) => r.maxAttempts),
    rows.map((r) => r.maxStalls), rows.map((r) => r.createdAt), rows.map((r) => r.timeoutMs), rows.map((r) => r.trace), channel,
  ];
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
