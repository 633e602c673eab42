import type { AttemptRecord, DeadReason, Job, JobState } from '../../core/job.ts';

/** A job row as postgres.js returns it (bigint as number, jsonb parsed). */
export interface PgJobRow {
  id: string;
  queue: string;
  name: string;
  payload: unknown;
  priority: number;
  state: string;
  run_at: number;
  attempt: number;
  max_attempts: number;
  stalls: number;
  max_stalls: number;
  token: number;
  lease_expires_at: number | null;
  created_at: number;
  updated_at: number;
  finished_at?: number | null;
  last_error: string | null;
  result?: unknown;
  dead_reason?: string | null;
  history: unknown;
}

export function pgRowToJob(row: PgJobRow): Job {
  return {
    id: row.id,
    queue: row.queue,
    name: row.name,
    payload: row.payload, // jsonb arrives parsed
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
    finishedAt: row.finished_at ?? null,
    lastError: row.last_error,
    result: row.result ?? null,
    deadReason: (row.dead_reason ?? null) as DeadReason | null,
    history: row.history as AttemptRecord[],
  };
}
