import { requiresOf } from '../core/resource-tags.ts';
import type { ChildResult } from '../core/flow.ts';
import type { AttemptRecord, DeadReason, Job, JobState, JobTrace } from '../core/job.ts';

/**
 * A job row as a driver reads it: the same columns in every store. JSON columns
 * (payload, result, history, progress, trace) arrive as text from SQLite and already parsed from
 * PostgreSQL; `decodeJson` says which. The `logs` column is not part of a Job (a job read
 * leaves it out; only Store.jobLogs reads it).
 */
export interface JobRow<J = unknown> {
  id: string;
  queue: string;
  name: string;
  payload: J;
  priority: number;
  state: string;
  run_at: number;
  attempt: number;
  max_attempts: number;
  stalls: number;
  max_stalls: number;
  token: number;
  lease_expires_at: number | null;
  /** When the last delivery began; NULL for a job never claimed. */
  started_at: number | null;
  created_at: number;
  updated_at: number;
  finished_at?: number | null;
  last_error: string | null;
  result?: J | null;
  dead_reason?: string | null;
  history: J;
  timeout_ms: number;
  /** NULL when no progress was reported. */
  progress: J | null;
  /** The W3C trace context the job was added with; NULL when none. */
  trace: J | null;
  /** The job's group (tenant); NULL when none. */
  group_key: string | null;
  /** The job's start deadline (ttlMs); NULL when none. */
  expire_at: number | null;
  /** The job's declared cost; NULL when none. */
  cost: number | null;
  /** The job's concurrency key; NULL when none. */
  concurrency_key: string | null;
  /** The job's required resource tags joined by commas; NULL when none. */
  requires: string | null;
  /** A settled flow parent's children's outcomes (docs/flows.md); NULL on every other job. */
  child_results?: J | null;
}

/** Maps a row to a Job; `decodeJson` turns a JSON column into its value. */
export function rowToJob<J>(row: JobRow<J>, decodeJson: (value: J) => unknown): Job {
  return {
    id: row.id,
    queue: row.queue,
    name: row.name,
    payload: decodeJson(row.payload),
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
    result: row.result === undefined || row.result === null ? null : decodeJson(row.result),
    deadReason: (row.dead_reason ?? null) as DeadReason | null,
    history: withCompletion(decodeJson(row.history) as AttemptRecord[], row),
    timeoutMs: row.timeout_ms,
    progress: row.progress === null ? null : decodeJson(row.progress),
    trace: row.trace === null ? null : (decodeJson(row.trace) as JobTrace),
    group: row.group_key ?? null,
    expiresAt: row.expire_at ?? null,
    cost: row.cost ?? null,
    concurrencyKey: row.concurrency_key ?? null,
    requires: requiresOf(row.requires),
    ...(row.child_results === undefined || row.child_results === null ? {} : { childResults: decodeJson(row.child_results) as ChildResult[] }),
  };
}

/**
 * The attempt history as a Job shows it. An ack leaves the row's history alone (no JSON is read
 * or rewritten on the hot path; the stores only drop the oldest record when it is full, to make
 * room): a completed job's last record is derived from the columns its claim wrote (attempt,
 * token, started_at) and those its ack wrote (state, finished_at). A row whose history already
 * ends with that record (written before acks stopped storing it, or copied from a Job) is shown
 * as it is.
 */
function withCompletion<J>(history: AttemptRecord[], row: JobRow<J>): AttemptRecord[] {
  if (row.state !== 'completed' || row.started_at === null || row.finished_at === undefined || row.finished_at === null) return history;
  const last = history.at(-1);
  if (last?.outcome === 'completed' && last.token === row.token) return history;
  history.push({ attempt: row.attempt, token: row.token, startedAt: row.started_at, endedAt: row.finished_at, outcome: 'completed' });
  return history;
}
