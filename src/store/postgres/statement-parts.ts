/**
 * SQL fragments shared by the statement modules of the PostgreSQL store (statements.ts,
 * insert-statements.ts, claim-statements.ts).
 */

export const LIVE_COLUMNS = `id, queue, name, payload, priority, state, run_at, attempt, max_attempts, stalls, max_stalls, token,
  lease_expires_at, started_at, worker_id, created_at, updated_at, last_error, history, timeout_ms, progress, logs, trace, group_key, expire_at, cost, sort_key, concurrency_key, requires, child_results`;
export const FINISHED_COLUMNS = `${LIVE_COLUMNS}, finished_at, result, dead_reason`;
/**
 * The columns a Job is read from (qualified by `t`), in the same order from both tables, so
 * the two can be read with UNION ALL whatever order the migrations gave their columns. Not
 * `logs`: they can be large, and only jobLogs reads them.
 */
export const jobColumns = (t = '') => ['id', 'queue', 'name', 'payload', 'priority', 'state', 'run_at', 'attempt', 'max_attempts', 'stalls', 'max_stalls',
  'token', 'lease_expires_at', 'started_at', 'created_at', 'updated_at', 'last_error', 'history', 'timeout_ms', 'progress', 'trace', 'group_key', 'expire_at', 'cost', 'concurrency_key', 'requires', 'child_results'].map((c) => t + c).join(', ');
export const FINISHED_JOB = `${jobColumns()}, finished_at, result, dead_reason`;
export const LIVE_STATES = ['scheduled', 'ready', 'active'] as const;
export const FINISHED_STATES = ['completed', 'dead', 'cancelled'] as const;
export const LEASE_EXPIRED = `'lease expired: the worker died, stalled, or lost its connection'`;
/** Live jobs never leased whose start deadline has passed by $2 (an index of them: jobs_expiring). */
export const PAST_DEADLINE = `expire_at IS NOT NULL AND token = 0 AND expire_at <= $2`;

/** Runs pg_notify for each distinct queue of CTE `from` (when a channel is given), and forces it to run. */
export const notify = (from: string, channel: string, where = 'true') =>
  `n AS (SELECT pg_notify(${channel}, queue) FROM (SELECT DISTINCT queue FROM ${from} WHERE ${where}) q WHERE ${channel}::text IS NOT NULL)`;
export const forced = `(SELECT count(*) FROM n) >= 0`;
export const liveAsFinished = `${jobColumns()}, NULL::bigint AS finished_at, NULL::jsonb AS result, NULL::text AS dead_reason`;

/** Columns for INSERT INTO jobs_finished … SELECT from a CTE `moved` of live rows (of schema `s`). */
export function finishOf(s: string) {
  return (state: string, now: string, history: string, lastError = 'last_error', result = 'NULL::jsonb', deadReason = 'NULL::text', stalls = 'stalls', childResults = 'child_results') =>
    `INSERT INTO ${s}.jobs_finished (${FINISHED_COLUMNS}, unique_key, unique_until)
     SELECT id, queue, name, payload, priority, '${state}', run_at, attempt, max_attempts, ${stalls}, max_stalls, token,
            NULL, started_at, worker_id, created_at, ${now}, ${lastError}, ${history}, timeout_ms, progress, logs, trace, group_key, expire_at, cost, sort_key, concurrency_key, requires, ${childResults}, ${now}, ${result}, ${deadReason},
            CASE WHEN unique_until > ${now}::int8 THEN unique_key END, unique_until
     FROM moved`;
}
