/**
 * The SQLite store's statements, prepared once per connection. SQL lives here and in
 * migrations.ts only; docs/operations.md lists the index each one relies on.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { EXPIRED_ERROR, JOB_STATES } from '../../core/job.ts';
import { FLOW_WAIT_AT } from '../../core/flow.ts';
import { prepare } from './prepare.ts';
import { concurrencyPick, keyRateHeld } from '../concurrency-claim.ts';
import { COVERED, firstToken, KEY_RATE, LIMITED, nextToken, windowRead } from './claim-statements.ts';

/**
 * `history` with its oldest record dropped when it holds historyMax: room for one more. An ack
 * writes no record (a completed job's last one is derived from its columns: rowToJob), so it
 * leaves the JSON as it is unless it is full.
 */
function roomInHistory(historyMax: number): string {
  return `CASE WHEN json_array_length(history) >= ${historyMax} THEN json_remove(history, '$[0]') ELSE history END`;
}

/** Appends an attempt record to `history`, dropping the oldest beyond historyMax. */
function appendHistory(historyMax: number, outcome: string, endedAtParam = '?', errorParam?: string): string {
  const record = `json_object('attempt', attempt, 'token', token, 'startedAt', started_at, 'endedAt', ${endedAtParam}, 'outcome', '${outcome}'${errorParam ? `, 'error', ${errorParam}` : ''})`;
  return `json_insert(${roomInHistory(historyMax)}, '$[#]', ${record})`;
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
 * Ends the leases of the active jobs `ids` selects (a query of ids; ?1 is now) as expired
 * attempts: back to ready, or dead when stalls or attempts are used up.
 */
export function reapWhere(historyMax: number, ids: string): string {
  return `UPDATE jobs SET
               stalls = stalls + 1,
               state = CASE WHEN stalls + 1 >= max_stalls OR attempt >= max_attempts THEN 'dead' ELSE 'ready' END,
               dead_reason = CASE WHEN stalls + 1 >= max_stalls THEN 'poison' WHEN attempt >= max_attempts THEN 'max-attempts' ELSE NULL END,
               finished_at = CASE WHEN stalls + 1 >= max_stalls OR attempt >= max_attempts THEN ?1 ELSE NULL END,
               run_at = CASE WHEN stalls + 1 >= max_stalls OR attempt >= max_attempts THEN run_at ELSE ?1 END,
               last_error = 'lease expired: the worker died, stalled, or lost its connection',
               lease_expires_at = NULL, updated_at = ?1,
               history = ${appendHistory(historyMax, 'expired', '?1')}
             WHERE id IN (${ids})
             RETURNING id, token, queue, state, dead_reason`;
}

/**
 * Ids of active jobs leased to a process presumed dead (registration ended by ?1, and not the
 * caller ?3), at most ?2. Read per queue from jobs_queue_state as ACTIVE_EXPIRED is: no index on
 * worker_id, so a claim and an ack write no more than before; the statement runs only when a
 * dead process was found, and reads the active jobs, bounded by what consumers hold.
 */
export const ACTIVE_ORPHANED = `
  WITH RECURSIVE live_queues(q) AS (
    SELECT (SELECT min(queue) FROM jobs)
    UNION ALL
    SELECT (SELECT min(queue) FROM jobs WHERE queue > live_queues.q) FROM live_queues WHERE live_queues.q IS NOT NULL
  )
  SELECT id FROM jobs INDEXED BY jobs_queue_state
  WHERE queue IN (SELECT q FROM live_queues WHERE q IS NOT NULL) AND state = 'active'
    AND worker_id IN (SELECT id FROM workers WHERE expires_at <= ?1 AND id IS NOT ?3)
  LIMIT ?2`;

/**
 * The next `limit` ids of queue `queue` after `after` and up to `to` (parameter names), in id
 * order, across every state: one ordered range of jobs_queue_state per state, merged. Index
 * only: no job row is read.
 */
const queueIdsAfter = (queue: string, after: string, to: string, limit: string): string => `SELECT id FROM (${JOB_STATES.map(
  (state) => `SELECT id FROM (SELECT id FROM jobs INDEXED BY jobs_queue_state WHERE queue = ${queue} AND state = '${state}' AND id > ${after} AND id <= ${to} ORDER BY id LIMIT ${limit})`,
).join(' UNION ALL ')}) ORDER BY id LIMIT ${limit}`;


const limitedClaim = (byKey: boolean, keyRate: boolean, tokenBase: number): string => `UPDATE jobs
  SET state = 'active', attempt = attempt + 1, token = ${nextToken(tokenBase)}, lease_expires_at = ?1, started_at = ?2, updated_at = ?2, worker_id = ?3
  WHERE id IN (SELECT id FROM (${concurrencyPick(LIMITED, byKey, keyRate ? KEY_RATE : null)}))
  RETURNING ${JOB}, sort_key`;

/** The children of waiting flows: retention keeps them, so the settling reads how they ended (a completed child's result). */
const HELD_CHILDREN = `SELECT c.child_id FROM flows f JOIN flow_children c ON c.parent_id = f.parent_id WHERE f.state = 'waiting'`;

/**
 * The columns a Job is read from: every one but `logs`, which can be large and which only
 * jobLogs reads (a claim, get or list never carries a job's log lines).
 */
const JOB = `id, queue, name, payload, priority, state, run_at, attempt, max_attempts, stalls, max_stalls, token, lease_expires_at, started_at,
  created_at, updated_at, finished_at, last_error, result, dead_reason, history, timeout_ms, progress, trace, group_key, expire_at, cost, concurrency_key, requires, child_results`;

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

/**
 * A payload field equal to a JSON scalar: ?7 the JSON path, ?8 the value's kind (`text`,
 * `number`, `true`, `false` or `null`, as json_type names them, integer and real both `number`),
 * ?9 the value (strings and numbers). Checking the kind first keeps a string from matching a
 * number, or an object's JSON text; a missing field has no kind, so it never equals null.
 * ?10: the job name too, when not NULL; ?11: the job group, when not NULL.
 */
const PAYLOAD_MATCH = `(CASE json_type(payload, ?7) WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' ELSE json_type(payload, ?7) END) = ?8
  AND (?8 IN ('true', 'false', 'null') OR json_extract(payload, ?7) = ?9) AND (?10 IS NULL OR name = ?10)
  AND (?11 IS NULL OR group_key = ?11)`;

/**
 * A bounded payload search: the ids `scan` reads (at most ?5, the bound), the jobs among them
 * that match (at most ?6), and, on every answer (a LEFT JOIN onto one row), how many ids the
 * scan read and the last of them: where the next call goes on from.
 */
const search = (scan: string): string => `WITH scan AS MATERIALIZED (${scan})
  SELECT (SELECT count(*) FROM scan) AS scan_n, (SELECT max(id) FROM scan) AS scan_last, m.* FROM (SELECT 1) LEFT JOIN (
    SELECT ${JOB} FROM jobs WHERE id IN (SELECT id FROM scan) AND ${PAYLOAD_MATCH} ORDER BY id LIMIT ?6) m
  ORDER BY m.id`;

/** The scans of a payload search (?1 queue · ?2 state · ?3 after · ?4 to · ?5 scan bound): in one state, or across all. */
export const SEARCH_BY_STATE = search(`SELECT id FROM jobs INDEXED BY jobs_queue_state WHERE queue = ?1 AND state = ?2 AND id > ?3 AND id <= ?4 ORDER BY id LIMIT ?5`);
export const SEARCH_ALL = search(queueIdsAfter('?1', '?3', '?4', '?5'));

/**
 * Moves jobs of `state` (ready or scheduled) never started and past their start deadline to
 * dead, at most ?2, now ?1; `queues` picks the queues: one (?3), or every one (a seek of
 * jobs_expiring per queue). Only jobs with a deadline are read: the partial index holds no other.
 */
const EXPIRE = (state: 'ready' | 'scheduled', queues: string): string => `UPDATE jobs
  SET state = 'dead', dead_reason = 'expired', last_error = '${EXPIRED_ERROR}', finished_at = ?1, updated_at = ?1
  WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_expiring
               WHERE ${queues} AND state = '${state}' AND expire_at IS NOT NULL AND token = 0 AND expire_at <= ?1 LIMIT ?2)
  RETURNING queue`;

/**
 * The oldest ready time of each queue with ready jobs (those of queue_counts matching `which`),
 * without walking its ready jobs: a loose index scan of jobs_ready (queue, priority DESC, run_at,
 * id) that hops from one priority present to the next lower one, one index seek each, then takes
 * the first run_at of each priority, one seek each. So the cost is twice the number of distinct
 * priorities among a queue's ready jobs, however many jobs it has.
 */
const OLDEST_READY = (which: string): string => `WITH RECURSIVE p(queue, priority) AS (
    SELECT queue, (SELECT priority FROM jobs INDEXED BY jobs_ready WHERE state = 'ready' AND queue = c.queue ORDER BY priority DESC LIMIT 1)
    FROM queue_counts c WHERE ${which}
    UNION ALL
    SELECT queue, (SELECT priority FROM jobs INDEXED BY jobs_ready WHERE state = 'ready' AND queue = p.queue AND priority < p.priority
                   ORDER BY priority DESC LIMIT 1)
    FROM p WHERE priority IS NOT NULL)
  SELECT queue, min((SELECT run_at FROM jobs INDEXED BY jobs_ready WHERE state = 'ready' AND queue = p.queue AND priority = p.priority
                     ORDER BY run_at LIMIT 1)) AS at
  FROM p WHERE priority IS NOT NULL GROUP BY queue`;

/**
 * The distinct `requires` of the ready jobs of each queue with ready jobs (those of queue_counts
 * matching `which`): a loose index scan of jobs_requires, one seek from each set to the next, so
 * the cost is the number of distinct sets, however many jobs carry them.
 */
const REQUIRES_SETS = (which: string): string => `WITH RECURSIVE r(queue, requires) AS (
    SELECT queue, (SELECT requires FROM jobs INDEXED BY jobs_requires WHERE queue = c.queue AND requires IS NOT NULL AND state = 'ready'
                   ORDER BY requires LIMIT 1)
    FROM queue_counts c WHERE ${which}
    UNION ALL
    SELECT queue, (SELECT requires FROM jobs INDEXED BY jobs_requires WHERE queue = r.queue AND requires IS NOT NULL AND state = 'ready'
                   AND requires > r.requires ORDER BY requires LIMIT 1)
    FROM r WHERE requires IS NOT NULL)
  SELECT queue, requires FROM r WHERE requires IS NOT NULL`;

export function prepareStatements(db: DatabaseSync, historyMax: number, tokenBase: number) {
  const p = (sql: string): StatementSync => prepare(db, sql);
  return {
    // A row its insert leases (NewJobRow.lease) is stored as a claim would leave it: attempt 1, this open's first token.
    insert: p(`INSERT INTO jobs (id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, timeout_ms, trace, group_key, expire_at, created_at, updated_at, cost, sort_key, unique_key, unique_until, concurrency_key, requires,
                 attempt, token, lease_expires_at, started_at, worker_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                 ?22 IS NOT NULL, CASE WHEN ?22 IS NULL THEN 0 ELSE ${firstToken(tokenBase)} END, ?22, CASE WHEN ?22 IS NULL THEN NULL ELSE ?14 END, ?23)`),
    // The live job of a queue holding a unique key (index jobs_unique: its WHERE is the index's).
    uniqueHolder: p(`SELECT id FROM jobs WHERE queue = ? AND unique_key = ? AND unique_key IS NOT NULL AND state IN ('scheduled', 'ready', 'active')`),
    // A finished job of a queue still holding a unique key by its window at ?3 (index jobs_unique_window), the latest window first.
    uniqueWindowHolder: p(`SELECT id FROM jobs WHERE queue = ?1 AND unique_key = ?2 AND unique_until IS NOT NULL AND unique_until > ?3 ORDER BY unique_until DESC LIMIT 1`),
    // Only due rows are scanned (maintenance promotes them every tick), whatever the queue's backlog of future jobs.
    promoteQueue: p(`UPDATE jobs INDEXED BY jobs_scheduled SET state = 'ready', updated_at = ? WHERE state = 'scheduled' AND queue = ? AND run_at <= ?`),
    promoteAll: p(`UPDATE jobs SET state = 'ready', updated_at = ?
                   WHERE id IN (SELECT id FROM jobs WHERE state = 'scheduled' AND run_at <= ? ORDER BY run_at LIMIT ?)
                   RETURNING queue`),
    // The claiming process's registration (worker_id) is set in the same UPDATE: the registry costs a claim nothing.
    claim: p(`UPDATE jobs SET state = 'active', attempt = attempt + 1, token = ${nextToken(tokenBase)}, lease_expires_at = ?, started_at = ?, updated_at = ?, worker_id = ?
              WHERE id IN (SELECT id FROM jobs WHERE queue = ? AND state = 'ready' AND (expire_at IS NULL OR token > 0 OR expire_at > ?)
                           AND ${COVERED('?')} ORDER BY priority DESC, run_at, id LIMIT ?)
              RETURNING ${JOB}`),
    // The claim of a queue whose policy is not fifo: lowest sort key first (see ordering.ts).
    claimByKey: p(`UPDATE jobs SET state = 'active', attempt = attempt + 1, token = ${nextToken(tokenBase)}, lease_expires_at = ?, started_at = ?, updated_at = ?, worker_id = ?
              WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_sorted
                           WHERE queue = ? AND state = 'ready' AND sort_key IS NOT NULL AND (expire_at IS NULL OR token > 0 OR expire_at > ?)
                           AND ${COVERED('?')} ORDER BY sort_key, id LIMIT ?)
              RETURNING ${JOB}, sort_key`),
    // The claim of a queue with per-key concurrency limits or group FIFO (ClaimParams.concurrency), in fifo
    // order and by sort key: ?1 lease end · ?2 now · ?3 worker · ?4 queue · ?5 limit · ?6 the limit of a key not
    // named (NULL: none) · ?7 the limits of the keys named (JSON) · ?8 group FIFO (0/1) · ?9 the worker's tags (JSON). Due jobs were promoted
    // and expired ones moved to dead just before, in the same transaction (see SqliteStore.jobsClaim).
    claimLimited: p(limitedClaim(false, false, tokenBase)),
    claimLimitedByKey: p(limitedClaim(true, false, tokenBase)),
    // The same under per-key rate limits (?10, ClaimParams.keyRate), and after it, when the keys whose jobs
    // wait only for tokens get their next (the same parameters; ?1, ?3 and ?5 unused).
    claimKeyRate: p(limitedClaim(false, true, tokenBase)),
    claimKeyRateByKey: p(limitedClaim(true, true, tokenBase)),
    keyRateHeld: p(keyRateHeld(LIMITED, false, KEY_RATE)),
    keyRateHeldByKey: p(keyRateHeld(LIMITED, true, KEY_RATE)),
    // Per-key limits without group FIFO: the read of a window (windowRead), then the lease of the jobs picked
    // from it (?1 lease end · ?2 now · ?3 worker · ?4 the ids, a JSON array), in the same transaction.
    claimWindow: p(windowRead(false)),
    claimWindowByKey: p(windowRead(true)),
    // The queue's count of active jobs the store keeps (count-ledger.ts): whether a claim can reach a key's limit at all.
    activeCount: p(`SELECT coalesce(sum(n), 0) AS n FROM queue_counts WHERE queue = ? AND state = 'active'`),
    claimIds: p(`UPDATE jobs SET state = 'active', attempt = attempt + 1, token = ${nextToken(tokenBase)}, lease_expires_at = ?1, started_at = ?2, updated_at = ?2, worker_id = ?3
                 WHERE id IN (SELECT value FROM json_each(?4)) AND state = 'ready'
                 RETURNING ${JOB}, sort_key`),
    // Ordering (ordering.ts): the smallest key among a queue's ready jobs, the largest fair tag issued in it,
    // a group's last tag and its update, a name's learned run time and its update.
    minReadyKey: p(`SELECT sort_key AS k FROM jobs INDEXED BY jobs_sorted WHERE queue = ? AND state = 'ready' AND sort_key IS NOT NULL ORDER BY sort_key LIMIT 1`),
    maxFairTag: p(`SELECT max(last_tag) AS k FROM fair_tags WHERE queue = ?`),
    fairTagGet: p(`SELECT last_tag AS k FROM fair_tags WHERE queue = ? AND group_key = ?`),
    fairTagPut: p(`INSERT INTO fair_tags (queue, group_key, last_tag) VALUES (?, ?, ?) ON CONFLICT (queue, group_key) DO UPDATE SET last_tag = excluded.last_tag`),
    estimateGet: p(`SELECT mean_ms AS k FROM run_estimates WHERE queue = ? AND name = ?`),
    // ?1 queue · ?2 name · ?3 run time · ?4 weight of the new sample in percent
    estimateLearn: p(`INSERT INTO run_estimates (queue, name, mean_ms, samples) VALUES (?1, ?2, ?3, 1)
                      ON CONFLICT (queue, name) DO UPDATE SET mean_ms = mean_ms + (excluded.mean_ms - mean_ms) * ?4 / 100.0, samples = samples + 1`),
    // A policy change: the keys of the queue's live jobs (?1 queue), computed as an add would.
    rekeyNone: p(`UPDATE jobs SET sort_key = NULL WHERE queue = ?1 AND state IN ('ready', 'scheduled', 'active') AND sort_key IS NOT NULL`),
    rekeyPriority: p(`UPDATE jobs SET sort_key = run_at - priority * ?2 WHERE queue = ?1 AND state IN ('ready', 'scheduled', 'active')`),
    rekeySjf: p(`UPDATE jobs SET sort_key = run_at + coalesce(cost, (SELECT mean_ms FROM run_estimates e WHERE e.queue = jobs.queue AND e.name = jobs.name), 0) * ?2
                 WHERE queue = ?1 AND state IN ('ready', 'scheduled', 'active')`),
    // ?2 the tag to start from · ?3 the weights (JSON object of group → weight; others weigh 1)
    rekeyFair: p(`UPDATE jobs SET sort_key = ?2 + r.n * 1.0 / coalesce((SELECT value FROM json_each(?3) WHERE key = jobs.group_key), 1)
                  FROM (SELECT id, row_number() OVER (PARTITION BY group_key ORDER BY id) AS n
                        FROM jobs WHERE queue = ?1 AND state IN ('ready', 'scheduled', 'active')) r
                  WHERE jobs.id = r.id`),
    fairTagsReset: p(`DELETE FROM fair_tags WHERE queue = ?`),
    fairTagsFromJobs: p(`INSERT INTO fair_tags (queue, group_key, last_tag)
                         SELECT queue, coalesce(group_key, ''), max(sort_key) FROM jobs
                         WHERE queue = ?1 AND state IN ('ready', 'scheduled', 'active') GROUP BY group_key`),
    estimatesDeleteQueue: p(`DELETE FROM run_estimates WHERE queue = ?`),
    // Expired jobs of one queue (the claim's, ?3) or of every queue (the leader's sweep); see EXPIRE.
    expireQueue: { ready: p(EXPIRE('ready', 'queue = ?3')), scheduled: p(EXPIRE('scheduled', 'queue = ?3')) },
    expireAll: { ready: p(EXPIRE('ready', 'queue IN (SELECT name FROM queues)')), scheduled: p(EXPIRE('scheduled', 'queue IN (SELECT name FROM queues)')) },
    complete: p(`UPDATE jobs SET state = 'completed', result = ?, lease_expires_at = NULL, finished_at = ?, updated_at = ?,
                   history = ${roomInHistory(historyMax)}
                 WHERE id = ? AND token = ? AND state = 'active'`),
    queueOf: p(`SELECT queue FROM jobs WHERE id = ?`),
    // The flow a job that just finished is a child of (docs/flows.md): the ack reports it, and the engine settles the flow.
    flowParentOf: p(`SELECT parent_id FROM flow_children WHERE child_id = ?`),
    anyFlowChild: p(`SELECT EXISTS (SELECT 1 FROM flow_children) AS n`),
    // ?1 unrecoverable (0/1) · ?2 retryAt · ?3 now · ?4 error · ?5 id · ?6 token
    fail: p(`UPDATE jobs SET
               state = CASE WHEN ?1 = 1 OR attempt >= max_attempts THEN 'dead' WHEN ?2 > ?3 THEN 'scheduled' ELSE 'ready' END,
               dead_reason = CASE WHEN ?1 = 1 THEN 'unrecoverable' WHEN attempt >= max_attempts THEN 'max-attempts' ELSE NULL END,
               run_at = CASE WHEN ?1 = 1 OR attempt >= max_attempts THEN run_at ELSE ?2 END,
               finished_at = CASE WHEN ?1 = 1 OR attempt >= max_attempts THEN ?3 ELSE NULL END,
               last_error = ?4, lease_expires_at = NULL, updated_at = ?3,
               history = ${appendHistory(historyMax, 'failed', '?3', '?4')}
             WHERE id = ?5 AND token = ?6 AND state = 'active'
             RETURNING queue, state, dead_reason`),
    // An extend naming a process (worker_id, ?3) moves the lease to it; NULL leaves the owner.
    extend: p(`UPDATE jobs SET lease_expires_at = ?1, updated_at = ?2, worker_id = coalesce(?3, worker_id) WHERE id = ?4 AND token = ?5 AND state = 'active'`),
    // ?1 until · ?2 now · ?3 id · ?4 token · ?5 the end its holder last set (the fence; see Store.jobsShorten).
    shorten: p(`UPDATE jobs SET lease_expires_at = ?1, updated_at = ?2
                WHERE id = ?3 AND token = ?4 AND state = 'active' AND lease_expires_at = ?5 AND lease_expires_at > ?1`),
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
                state = 'ready', run_at = ?, updated_at = ?, finished_at = NULL, dead_reason = NULL, expire_at = NULL,
                -- A finished job comes back without its unique key: another live job may hold it by now.
                unique_key = CASE WHEN state = 'scheduled' THEN unique_key ELSE NULL END
              WHERE id = ? AND state IN ('dead', 'cancelled', 'scheduled') AND NOT (state = 'scheduled' AND run_at = ${FLOW_WAIT_AT})`),
    // ?1 now · ?2 limit
    reap: p(reapWhere(historyMax, ACTIVE_EXPIRED)),
    // One statement per state, with the state as a literal: a bound parameter would keep SQLite from using the partial index.
    deleteFinished: {
      completed: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_finished WHERE state = 'completed' AND finished_at < ? AND id NOT IN (${HELD_CHILDREN}) ORDER BY finished_at LIMIT ?) RETURNING queue`),
      dead: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_finished WHERE state = 'dead' AND finished_at < ? AND id NOT IN (${HELD_CHILDREN}) ORDER BY finished_at LIMIT ?) RETURNING queue`),
      cancelled: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_finished WHERE state = 'cancelled' AND finished_at < ? AND id NOT IN (${HELD_CHILDREN}) ORDER BY finished_at LIMIT ?) RETURNING queue`),
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
    // ?1 queue · (?2 state) · ?3 after · ?4 to · ?5 limit
    idsByState: p(`SELECT id FROM jobs INDEXED BY jobs_queue_state WHERE queue = ?1 AND state = ?2 AND id > ?3 AND id <= ?4 ORDER BY id LIMIT ?5`),
    idsByQueue: p(queueIdsAfter('?1', '?3', '?4', '?5')),
    // The jobs with the name among those ids: in one state, the same index range again (?1 queue · ?2 state · ?3 after · ?4 last id);
    // across states, by key (?1 JSON array of the ids).
    namedInRange: p(`SELECT ${JOB} FROM jobs INDEXED BY jobs_queue_state WHERE queue = ?1 AND state = ?2 AND id > ?3 AND id <= ?4 AND name = ?5
                     ORDER BY id LIMIT ?6`),
    namedIn: p(`SELECT ${JOB} FROM jobs WHERE id IN (SELECT value FROM json_each(?1)) AND name = ?2 ORDER BY id LIMIT ?3`),
    // Listing by group: a range of jobs_queue_group (?1 queue · ?2 group · ?3 after · ?4 to · ?5 limit). With a state or
    // name filter, the group's ids a chunk at a time (index only), then the same range again up to the chunk's last id,
    // its rows filtered (?5 state, ?6 name: NULL for any · ?7 limit): a filter reads the group's rows alone.
    listGroup: p(`SELECT ${JOB} FROM jobs INDEXED BY jobs_queue_group WHERE queue = ?1 AND group_key = ?2 AND id > ?3 AND id <= ?4
                  ORDER BY id LIMIT ?5`),
    idsByGroup: p(`SELECT id FROM jobs INDEXED BY jobs_queue_group WHERE queue = ?1 AND group_key = ?2 AND id > ?3 AND id <= ?4
                   ORDER BY id LIMIT ?5`),
    groupInRange: p(`SELECT ${JOB} FROM jobs INDEXED BY jobs_queue_group WHERE queue = ?1 AND group_key = ?2 AND id > ?3 AND id <= ?4
                       AND (?5 IS NULL OR state = ?5) AND (?6 IS NULL OR name = ?6)
                     ORDER BY id LIMIT ?7`),
    purge: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE queue = ? AND state IN ('ready', 'scheduled') LIMIT ?) RETURNING state`),
    stateOf: p(`SELECT state, queue, token FROM jobs WHERE id = ?`),
    leaseOf: p(`SELECT state, token FROM jobs WHERE id = ?`),
    get: p(`SELECT ${JOB} FROM jobs WHERE id = ?`),
    logs: p(`SELECT logs FROM jobs WHERE id = ?`),
    // ?1 queue · (?2 state) · ?3 after · ?4 to (the id range of a time range) · ?5 limit
    listByState: p(`SELECT ${JOB} FROM jobs WHERE queue = ?1 AND state = ?2 AND id > ?3 AND id <= ?4 ORDER BY id LIMIT ?5`),
    // Across states: the page's ids from one bounded range of jobs_queue_state per state, merged (index only), then
    // the jobs by key. Walking the primary key in id order instead would pass every other queue's jobs on the way.
    listAll: p(`SELECT ${JOB} FROM jobs WHERE id IN (${queueIdsAfter('?1', '?3', '?4', '?5')}) ORDER BY id`),
    searchByState: p(SEARCH_BY_STATE),
    searchAll: p(SEARCH_ALL),
    nextDue: p(`SELECT min(run_at) AS at FROM jobs WHERE state = 'scheduled'`),
    // Counts per queue and state, kept by the store (count-ledger.ts): never a count over the jobs.
    countsAll: p(`SELECT queue, state, n FROM queue_counts WHERE n <> 0`),
    countsOne: p(`SELECT queue, state, n FROM queue_counts WHERE queue = ? AND n <> 0`),
    oldestAll: p(OLDEST_READY(`state = 'ready' AND n > 0`)),
    oldestOne: p(OLDEST_READY(`queue = ?1 AND state = 'ready' AND n > 0`)),
    // Resource-aware dispatch: the distinct required tag sets among each queue's ready jobs (one seek of the
    // partial index jobs_requires per set), what live processes consume (?1 now), and the ready jobs of one set.
    requiresSetsAll: p(REQUIRES_SETS(`state = 'ready' AND n > 0`)),
    requiresSetsOne: p(REQUIRES_SETS(`queue = ?1 AND state = 'ready' AND n > 0`)),
    liveConsumers: p(`SELECT consumers FROM workers WHERE expires_at > ?1 AND consumers <> '[]'`),
    requiresCount: p(`SELECT count(*) AS n FROM jobs INDEXED BY jobs_requires WHERE queue = ?1 AND requires = ?2 AND requires IS NOT NULL AND state = 'ready'`),
    // Run when a queue has no job left (deleted with the queue): its rows, whatever the deltas not yet written (count-ledger.ts forgets those).
    queueCountsDelete: p(`DELETE FROM queue_counts WHERE queue = ?`),
    queueUpsert: p(`INSERT INTO queues (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`),
    // A queue's row, made by its first stored job: config '{}' means every setting at its default.
    queueCreate: p(`INSERT INTO queues (name, config, created_at, updated_at) VALUES (?, '{}', ?, ?) ON CONFLICT (name) DO NOTHING`),
    // Idempotency keys of adds (publish_keys, see publish-keys.ts): record a key unless the queue holds it
    // (the change count says which), read the one held, replace one past the window, forget one whose insert failed.
    publishKeyClaim: p(`INSERT INTO publish_keys (queue, key, job_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (queue, key) DO NOTHING`),
    publishKeyGet: p(`SELECT job_id, created_at FROM publish_keys WHERE queue = ? AND key = ?`),
    publishKeyReplace: p(`INSERT OR REPLACE INTO publish_keys (queue, key, job_id, created_at) VALUES (?, ?, ?, ?)`),
    publishKeyForget: p(`DELETE FROM publish_keys WHERE queue = ? AND key = ? AND job_id = ?`),
    publishKeysDeleteQueue: p(`DELETE FROM publish_keys WHERE queue = ?`),
    // Expiry without an index on created_at (one less b-tree written per add): keys are recorded in
    // rowid order, so the oldest are the first rowids. Of the first ?2, those recorded before ?1 go;
    // one not yet expired (a clock that stepped back) holds the ones after it a little longer.
    publishKeysDelete: p(`DELETE FROM publish_keys WHERE rowid IN (SELECT rowid FROM publish_keys ORDER BY rowid LIMIT ?2) AND created_at < ?1`),
    queueGet: p(`SELECT * FROM queues WHERE name = ?`),
    queueList: p(`SELECT * FROM queues ORDER BY name`),
    queuePause: p(`UPDATE queues SET paused = ?, updated_at = ? WHERE name = ?`),
  };
}
