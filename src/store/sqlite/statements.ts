/**
 * The SQLite store's statements, prepared once per connection. SQL lives here and in
 * migrations.ts only; docs/operations.md lists the index each one relies on.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { JOB_STATES } from '../../core/job.ts';

/** Appends an attempt record to `history`, dropping the oldest beyond historyMax. */
function appendHistory(historyMax: number, outcome: string, endedAtParam = '?', errorParam?: string): string {
  const record = `json_object('attempt', attempt, 'token', token, 'startedAt', started_at, 'endedAt', ${endedAtParam}, 'outcome', '${outcome}'${errorParam ? `, 'error', ${errorParam}` : ''})`;
  return `json_insert(CASE WHEN json_array_length(history) >= ${historyMax} THEN json_remove(history, '$[0]') ELSE history END, '$[#]', ${record})`;
}

/**
 * Ids of active jobs whose lease ended by ?1, oldest deadline first, at most ?2. Read per
 * queue from jobs_queue_state (the queues found by a skip scan of its first column), so
 * the cost is the number of active jobs — bounded by what consumers hold — whatever the
 * size of the table, and no index has to follow every lease deadline.
 */
export const ACTIVE_EXPIRED = `
  WITH RECURSIVE live_queues(q) AS (
    SELECT (SELECT min(queue) FROM jobs)
    UNION ALL
    SELECT (SELECT min(queue) FROM jobs WHERE queue > live_queues.q) FROM live_queues WHERE live_queues.q IS NOT NULL
  )
  SELECT id FROM jobs INDEXED BY jobs_queue_state
  WHERE queue IN (SELECT q FROM live_queues WHERE q IS NOT NULL) AND state = 'active' AND lease_expires_at <= ?1
  ORDER BY lease_expires_at LIMIT ?2`;

/**
 * The next ?3 ids of queue ?1 after ?2, in id order, across every state: one ordered range of
 * jobs_queue_state per state, merged. Index only: no job row is read.
 */
const QUEUE_IDS_AFTER = JOB_STATES.map(
  (state) => `SELECT id FROM (SELECT id FROM jobs INDEXED BY jobs_queue_state WHERE queue = ?1 AND state = '${state}' AND id > ?2 ORDER BY id LIMIT ?3)`,
).join(' UNION ALL ');

/**
 * The columns a Job is read from: every one but `logs`, which can be large and which only
 * jobLogs reads (a claim, get or list never carries a job's log lines).
 */
const JOB = `id, queue, name, payload, priority, state, run_at, attempt, max_attempts, stalls, max_stalls, token, lease_expires_at,
  created_at, updated_at, finished_at, last_error, result, dead_reason, history, timeout_ms, progress, trace`;

/**
 * Appends the log lines ?2 (a JSON array, or NULL for none) to `logs`, keeping the last ?3:
 * the old and new lines numbered, the newest ?3 taken, put back oldest first. Without new lines
 * and within the limit, `logs` is left as it is (a report of progress alone rewrites no lines).
 */
const APPEND_LOGS = `CASE WHEN ?2 IS NULL AND json_array_length(logs) <= ?3 THEN logs ELSE (
    SELECT json_group_array(json(value) ORDER BY part, k) FROM (
      SELECT value, part, k FROM (
        SELECT value, 0 AS part, key AS k FROM json_each(jobs.logs) UNION ALL SELECT value, 1, key FROM json_each(?2))
      ORDER BY part DESC, k DESC LIMIT ?3)) END`;

export function prepareStatements(db: DatabaseSync, historyMax: number) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    insert: p(`INSERT INTO jobs (id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, timeout_ms, trace, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    // Only due rows are scanned (maintenance promotes them every tick), whatever the queue's backlog of future jobs.
    promoteQueue: p(`UPDATE jobs INDEXED BY jobs_scheduled SET state = 'ready', updated_at = ? WHERE state = 'scheduled' AND queue = ? AND run_at <= ?`),
    promoteAll: p(`UPDATE jobs SET state = 'ready', updated_at = ?
                   WHERE id IN (SELECT id FROM jobs WHERE state = 'scheduled' AND run_at <= ? ORDER BY run_at LIMIT ?)
                   RETURNING queue`),
    claim: p(`UPDATE jobs SET state = 'active', attempt = attempt + 1, token = token + 1, lease_expires_at = ?, started_at = ?, updated_at = ?
              WHERE id IN (SELECT id FROM jobs WHERE queue = ? AND state = 'ready' ORDER BY priority DESC, run_at, id LIMIT ?)
              RETURNING ${JOB}`),
    complete: p(`UPDATE jobs SET state = 'completed', result = ?, lease_expires_at = NULL, finished_at = ?, updated_at = ?,
                   history = ${appendHistory(historyMax, 'completed')}
                 WHERE id = ? AND token = ? AND state = 'active'`),
    // ?1 unrecoverable (0/1) · ?2 retryAt · ?3 now · ?4 error · ?5 id · ?6 token
    fail: p(`UPDATE jobs SET
               state = CASE WHEN ?1 = 1 OR attempt >= max_attempts THEN 'dead' WHEN ?2 > ?3 THEN 'scheduled' ELSE 'ready' END,
               dead_reason = CASE WHEN ?1 = 1 THEN 'unrecoverable' WHEN attempt >= max_attempts THEN 'max-attempts' ELSE NULL END,
               run_at = CASE WHEN ?1 = 1 OR attempt >= max_attempts THEN run_at ELSE ?2 END,
               finished_at = CASE WHEN ?1 = 1 OR attempt >= max_attempts THEN ?3 ELSE NULL END,
               last_error = ?4, lease_expires_at = NULL, updated_at = ?3,
               history = ${appendHistory(historyMax, 'failed', '?3', '?4')}
             WHERE id = ?5 AND token = ?6 AND state = 'active'
             RETURNING state, dead_reason`),
    extend: p(`UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND token = ? AND state = 'active'`),
    // ?1 progress (JSON text; NULL: keep it) · ?2 lines (JSON array; NULL: none) · ?3 lines kept · ?4 now · ?5 id · ?6 token.
    // json(?1) refuses text that is not JSON, so a bad item fails alone (see SqliteStore#each) and nothing unreadable is stored.
    report: p(`UPDATE jobs SET progress = coalesce(json(?1), progress), logs = ${APPEND_LOGS}, updated_at = ?4
               WHERE id = ?5 AND token = ?6 AND state = 'active'`),
    release: p(`UPDATE jobs SET state = 'ready', attempt = attempt - 1, lease_expires_at = NULL, updated_at = ?,
                  history = ${appendHistory(historyMax, 'released')}
                WHERE id = ? AND token = ? AND state = 'active'`),
    cancel: p(`UPDATE jobs SET state = 'cancelled', lease_expires_at = NULL, finished_at = ?, updated_at = ?,
                 history = CASE WHEN state = 'active' THEN ${appendHistory(historyMax, 'cancelled')} ELSE history END
               WHERE id = ? AND state IN ('scheduled', 'ready', 'active')`),
    retry: p(`UPDATE jobs SET
                attempt = CASE WHEN state = 'scheduled' THEN attempt ELSE 0 END,
                stalls = CASE WHEN state = 'scheduled' THEN stalls ELSE 0 END,
                state = 'ready', run_at = ?, updated_at = ?, finished_at = NULL, dead_reason = NULL
              WHERE id = ? AND state IN ('dead', 'cancelled', 'scheduled')`),
    // ?1 now · ?2 limit
    reap: p(`UPDATE jobs SET
               stalls = stalls + 1,
               state = CASE WHEN stalls + 1 >= max_stalls OR attempt >= max_attempts THEN 'dead' ELSE 'ready' END,
               dead_reason = CASE WHEN stalls + 1 >= max_stalls THEN 'poison' WHEN attempt >= max_attempts THEN 'max-attempts' ELSE NULL END,
               finished_at = CASE WHEN stalls + 1 >= max_stalls OR attempt >= max_attempts THEN ?1 ELSE NULL END,
               run_at = CASE WHEN stalls + 1 >= max_stalls OR attempt >= max_attempts THEN run_at ELSE ?1 END,
               last_error = 'lease expired: the worker died, stalled, or lost its connection',
               lease_expires_at = NULL, updated_at = ?1,
               history = ${appendHistory(historyMax, 'expired', '?1')}
             WHERE id IN (${ACTIVE_EXPIRED})
             RETURNING id, token, queue, state, dead_reason`),
    // One statement per state, with the state as a literal: a bound parameter would keep SQLite from using the partial index.
    deleteFinished: {
      completed: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_finished WHERE state = 'completed' AND finished_at < ? ORDER BY finished_at LIMIT ?)`),
      dead: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_finished WHERE state = 'dead' AND finished_at < ? ORDER BY finished_at LIMIT ?)`),
      cancelled: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_finished WHERE state = 'cancelled' AND finished_at < ? ORDER BY finished_at LIMIT ?)`),
    },
    // Operator delete: never an active job, checked by the statement that deletes.
    deleteJob: p(`DELETE FROM jobs WHERE id = ? AND state <> 'active'`),
    // One step of deleting a queue (?1 queue · ?2 force, 0/1: active jobs too · ?3 limit).
    queueActive: p(`SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'active'`),
    queueDeleteJobs: p(`DELETE FROM jobs WHERE id IN (
                          SELECT id FROM jobs INDEXED BY jobs_queue_state WHERE queue = ?1 AND (?2 = 1 OR state <> 'active') LIMIT ?3)
                        AND (?2 = 1 OR state <> 'active')
                        RETURNING id, state, token`),
    queueHasJobs: p(`SELECT EXISTS (SELECT 1 FROM jobs WHERE queue = ?) AS n`),
    queueDeleteRow: p(`DELETE FROM queues WHERE name = ?`),
    // Listing by name (no index has the name): ids a chunk at a time from jobs_queue_state, then the jobs of the chunk with the name.
    idsByState: p(`SELECT id FROM jobs INDEXED BY jobs_queue_state WHERE queue = ? AND state = ? AND id > ? ORDER BY id LIMIT ?`),
    idsByQueue: p(`SELECT id FROM (${QUEUE_IDS_AFTER}) ORDER BY id LIMIT ?3`),
    // The jobs with the name among those ids: in one state, the same index range again (?1 queue · ?2 state · ?3 after · ?4 last id);
    // across states, by key (?1 JSON array of the ids).
    namedInRange: p(`SELECT ${JOB} FROM jobs INDEXED BY jobs_queue_state WHERE queue = ?1 AND state = ?2 AND id > ?3 AND id <= ?4 AND name = ?5
                     ORDER BY id LIMIT ?6`),
    namedIn: p(`SELECT ${JOB} FROM jobs WHERE id IN (SELECT value FROM json_each(?1)) AND name = ?2 ORDER BY id LIMIT ?3`),
    purge: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE queue = ? AND state IN ('ready', 'scheduled') LIMIT ?)`),
    stateOf: p(`SELECT state, queue, token FROM jobs WHERE id = ?`),
    leaseOf: p(`SELECT state, token FROM jobs WHERE id = ?`),
    get: p(`SELECT ${JOB} FROM jobs WHERE id = ?`),
    logs: p(`SELECT logs FROM jobs WHERE id = ?`),
    listByState: p(`SELECT ${JOB} FROM jobs WHERE queue = ? AND state = ? AND id > ? ORDER BY id LIMIT ?`),
    listAll: p(`SELECT ${JOB} FROM jobs WHERE +queue = ? AND id > ? ORDER BY id LIMIT ?`), // "+queue": walk the primary key in id order, no sort
    nextDue: p(`SELECT min(run_at) AS at FROM jobs WHERE state = 'scheduled'`),
    countsAll: p(`SELECT queue, state, count(*) AS n FROM jobs GROUP BY queue, state`),
    countsOne: p(`SELECT queue, state, count(*) AS n FROM jobs WHERE queue = ? GROUP BY state`),
    oldestAll: p(`SELECT queue, min(run_at) AS at FROM jobs WHERE state = 'ready' GROUP BY queue`),
    oldestOne: p(`SELECT queue, min(run_at) AS at FROM jobs WHERE state = 'ready' AND queue = ?`),
    queueUpsert: p(`INSERT INTO queues (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`),
    // A queue's row, made by its first stored job: config '{}' means every setting at its default.
    queueCreate: p(`INSERT INTO queues (name, config, created_at, updated_at) VALUES (?, '{}', ?, ?) ON CONFLICT (name) DO NOTHING`),
    queueGet: p(`SELECT * FROM queues WHERE name = ?`),
    queueList: p(`SELECT * FROM queues ORDER BY name`),
    queuePause: p(`UPDATE queues SET paused = ?, updated_at = ? WHERE name = ?`),
  };
}
