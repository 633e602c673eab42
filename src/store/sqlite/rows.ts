import type { AttemptRecord, DeadReason, Job, JobState } from '../../core/job.ts';

/** A `jobs` row as SQLite returns it. */
export interface JobRow {
  id: string;
  queue: string;
  name: string;
  payload: string;
  priority: number;
  state: string;
  run_at: number;
  attempt: number;
  max_attempts: number;
  stalls: number;
  max_stalls: number;
  token: number;
  lease_expires_at: number | null;
  started_at: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  last_error: string | null;
  result: string | null;
  dead_reason: string | null;
  history: string;
}

export function rowToJob(row: JobRow): Job {
  return {
    id: row.id,
    queue: row.queue,
    name: row.name,
    payload: JSON.parse(row.payload),
    priority: row.priority,
    state: row.state as JobState,
    runAt: row.run_at,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    stalls: row.stalls,
    maxStalls: row.max_stalls,
    leaseToken: row.token,
    leaseExpiresAt: row.lease_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    lastError: row.last_error,
    result: row.result === null ? null : JSON.parse(row.result),
    deadReason: row.dead_reason as DeadReason | null,
    history: JSON.parse(row.history) as AttemptRecord[],
  };
}
