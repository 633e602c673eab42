/**
 * Every SQL statement of the PostgreSQL store, built once per schema. Each one is a
 * single atomic statement (or a pair in one transaction, noted), checking state and
 * lease token in its WHERE clause, so no interleaving can move a finished job back.
 * Batch statements take parallel arrays and `unnest` them.
 */

import { DROPPED_ERROR, EXPIRED_ERROR } from '../../core/job.ts';
import { claimStatements } from './claim-statements.ts';
import { insertStatements } from './insert-statements.ts';
import { FLOW_WAIT_AT } from '../../core/flow.ts';
import { FINISHED_JOB, FINISHED_STATES, finishOf, forced, LEASE_EXPIRED, liveAsFinished, LIVE_STATES, notify, PAST_DEADLINE } from './statement-parts.ts';

export type PgStatements = ReturnType<typeof pgStatements>;

export function pgStatements(s: string, historyMax: number) {
  /**
   * history with its oldest record dropped when it holds historyMax: room for one more. An ack
   * writes no record (a completed job's last one is derived from its columns: rowToJob).
   */
  const room = (t: string) => `(CASE WHEN jsonb_array_length(${t}history) >= ${historyMax} THEN ${t}history - 0 ELSE ${t}history END)`;
  /** history with one attempt record appended (oldest dropped past historyMax); `t` qualifies the job's columns. */
  const hist = (t: string, outcome: string, endedAt: string, error?: string) =>
    `${room(t)} || jsonb_build_array(jsonb_build_object(` +
    `'attempt', ${t}attempt, 'token', ${t}token, 'startedAt', ${t}started_at, 'endedAt', ${endedAt}::bigint, 'outcome', '${outcome}'` +
    `${error ? `, 'error', ${error}` : ''}))`;
  const finish = finishOf(s);
  // The flow a job that just finished is a child of, if any (docs/flows.md): the ack reports it and the engine settles the flow.
  const FLOW_PARENT = `(SELECT c.parent_id FROM ${s}.flow_children c WHERE c.child_id = id) AS flow_parent`;

  return {
    ...insertStatements(s),
    ...claimStatements(s),

    // A policy change ($1 queue), in the transaction that stores the settings: the keys of the queue's live jobs, as an add gives them.
    queueConfigLock: `SELECT config FROM ${s}.queues WHERE name = $1 FOR UPDATE`,
    rekeyNone: `UPDATE ${s}.jobs SET sort_key = NULL WHERE queue = $1 AND sort_key IS NOT NULL`,
    rekeyPriority: `UPDATE ${s}.jobs SET sort_key = run_at - priority * $2::float8 WHERE queue = $1`,
    rekeySjf: `UPDATE ${s}.jobs j SET sort_key = run_at + coalesce(cost, (SELECT e.mean_ms FROM ${s}.run_estimates e WHERE e.queue = j.queue AND e.name = j.name), 0) * $2::float8
      WHERE queue = $1`,
    // ?2 the weights (JSON object of group → weight; others weigh 1): each group's jobs in id order from the largest tag issued.
    rekeyFair: `WITH start AS (SELECT coalesce(max(last_tag), 0) AS v FROM ${s}.fair_tags WHERE queue = $1),
      r AS (SELECT id, row_number() OVER (PARTITION BY group_key ORDER BY id) AS n, coalesce(($2::jsonb ->> group_key)::float8, 1) AS w
            FROM ${s}.jobs WHERE queue = $1)
      UPDATE ${s}.jobs j SET sort_key = (SELECT v FROM start) + r.n / r.w FROM r WHERE j.id = r.id`,
    fairTagsReset: `DELETE FROM ${s}.fair_tags WHERE queue = $1`,
    fairTagsFromJobs: `INSERT INTO ${s}.fair_tags (queue, group_key, last_tag)
      SELECT queue, coalesce(group_key, ''), max(sort_key) FROM ${s}.jobs WHERE queue = $1 GROUP BY queue, group_key`,
    // The leader's sweep ($2 now, $1 limit): jobs past their start deadline, a seek of jobs_expiring per queue.
    expire: `WITH x AS (
        SELECT e.id FROM ${s}.queues q CROSS JOIN LATERAL (
          SELECT id FROM ${s}.jobs WHERE queue = q.name AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $1 FOR UPDATE SKIP LOCKED) e
        LIMIT $1),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) AND token = 0 RETURNING *)
      ${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")}
      RETURNING queue`,

    // JSON travels as text and is cast here: a driver that knows the parameter is jsonb would encode a string twice.
    complete: `WITH input AS (SELECT id, token, result::jsonb AS result FROM unnest($1::uuid[], $2::int[], $3::text[]) AS t(id, token, result)),
      moved AS (
        DELETE FROM ${s}.jobs j USING input i WHERE j.id = i.id AND j.token = i.token AND j.state = 'active'
        RETURNING j.*, i.result AS new_result)
      ${finish('completed', '$4', room(''), 'last_error', 'new_result')}
      RETURNING id, token, ${FLOW_PARENT}`,

    // The first of a pair run in one transaction: attempts used up (or unrecoverable) → dead.
    failDead: `WITH input AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int8[], $5::int[]) AS t(id, token, error, retry_at, unrec)),
      moved AS (
        DELETE FROM ${s}.jobs j USING input i
        WHERE j.id = i.id AND j.token = i.token AND j.state = 'active' AND (i.unrec = 1 OR j.attempt >= j.max_attempts)
        RETURNING j.*, i.error AS new_error, i.unrec = 1 AS new_unrec)
      ${finish('dead', '$6', hist('', 'failed', '$6', 'new_error'), 'new_error', 'NULL::jsonb', "CASE WHEN new_unrec THEN 'unrecoverable' ELSE 'max-attempts' END")}
      RETURNING id, token, state, dead_reason, ${FLOW_PARENT}`,
    // The second: attempts left → scheduled after backoff (or ready at once).
    failRetry: `WITH input AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int8[], $5::int[]) AS t(id, token, error, retry_at, unrec)),
      upd AS (
        UPDATE ${s}.jobs j SET state = CASE WHEN i.retry_at > $6 THEN 'scheduled' ELSE 'ready' END, run_at = i.retry_at,
          last_error = i.error, lease_expires_at = NULL, worker_id = NULL, updated_at = $6, history = ${hist('j.', 'failed', '$6', 'i.error')}
        FROM input i
        WHERE j.id = i.id AND j.token = i.token AND j.state = 'active' AND i.unrec = 0 AND j.attempt < j.max_attempts
        RETURNING j.id, j.token, j.state, j.queue),
      ${notify('upd', '$7', "state = 'ready'")}
      SELECT id, token, state, NULL::text AS dead_reason FROM upd WHERE ${forced}`,

    extend: `UPDATE ${s}.jobs j SET lease_expires_at = i.expires, updated_at = $4, worker_id = COALESCE(i.worker, j.worker_id)
      FROM unnest($1::uuid[], $2::int[], $3::int8[], $5::uuid[]) AS i(id, token, expires, worker)
      WHERE j.id = i.id AND j.token = i.token AND j.state = 'active'
      RETURNING j.id, j.token, j.lease_expires_at`,

    // Leases whose holder is gone, brought forward to i.until, fenced by token and by the end their holder last set (see Store.jobsShorten).
    shorten: `UPDATE ${s}.jobs j SET lease_expires_at = i.until, updated_at = $5
      FROM unnest($1::uuid[], $2::int[], $3::int8[], $4::int8[]) AS i(id, token, known, until)
      WHERE j.id = i.id AND j.token = i.token AND j.state = 'active' AND j.lease_expires_at = i.known AND j.lease_expires_at > i.until
      RETURNING j.id, j.token`,

    // Progress ($3: JSON text, NULL: keep it) and log lines ($4: a JSON array, NULL: none) of held
    // leases. The lines are appended and the last $6 kept: when old and new ones fit, a plain
    // concatenation; else the concatenation numbered, its last $6 aggregated back in order.
    report: `UPDATE ${s}.jobs j SET progress = COALESCE(i.progress, j.progress), updated_at = $5,
        logs = CASE WHEN jsonb_array_length(j.logs) + jsonb_array_length(i.lines) <= $6 THEN j.logs || i.lines ELSE (
          SELECT COALESCE(jsonb_agg(x.line ORDER BY x.n), '[]'::jsonb)
          FROM jsonb_array_elements(j.logs || i.lines) WITH ORDINALITY AS x(line, n)
          WHERE x.n > jsonb_array_length(j.logs) + jsonb_array_length(i.lines) - $6) END
      FROM (SELECT id, token, progress::jsonb AS progress, COALESCE(lines::jsonb, '[]'::jsonb) AS lines
            FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) AS t(id, token, progress, lines)) i
      WHERE j.id = i.id AND j.token = i.token AND j.state = 'active'
      RETURNING j.id, j.token`,

    release: `WITH upd AS (
        UPDATE ${s}.jobs j SET state = 'ready', attempt = j.attempt - 1, lease_expires_at = NULL, worker_id = NULL, updated_at = $3,
          history = ${hist('j.', 'released', '$3')}
        FROM unnest($1::uuid[], $2::int[]) AS i(id, token)
        WHERE j.id = i.id AND j.token = i.token AND j.state = 'active'
        RETURNING j.id, j.token, j.queue),
      ${notify('upd', '$4')}
      SELECT id, token FROM upd WHERE ${forced}`,

    lockLive: `SELECT id, state, queue, token FROM ${s}.jobs WHERE id = ANY($1::uuid[]) FOR UPDATE`,
    cancel: `WITH moved AS (DELETE FROM ${s}.jobs WHERE id = ANY($1::uuid[]) RETURNING *)
      ${finish('cancelled', '$2', `CASE WHEN state = 'active' THEN ${hist('', 'cancelled', '$2')} ELSE history END`)}
      RETURNING id`,

    lockAny: `WITH a AS (SELECT id, state, queue FROM ${s}.jobs WHERE id = ANY($1::uuid[]) FOR UPDATE),
      b AS (SELECT id, state, queue FROM ${s}.jobs_finished WHERE id = ANY($1::uuid[]) FOR UPDATE)
      SELECT * FROM a UNION ALL SELECT * FROM b`,
    retryFinished: `WITH moved AS (DELETE FROM ${s}.jobs_finished WHERE id = ANY($1::uuid[]) AND state IN ('dead', 'cancelled') RETURNING *)
      INSERT INTO ${s}.jobs (id, queue, name, payload, priority, state, run_at, attempt, max_attempts, stalls, max_stalls, token,
        created_at, updated_at, last_error, history, timeout_ms, progress, logs, trace, group_key, cost, sort_key, concurrency_key, requires, child_results)
      SELECT id, queue, name, payload, priority, 'ready', $2, 0, max_attempts, 0, max_stalls, token, created_at, $2, last_error, history,
        timeout_ms, progress, logs, trace, group_key, cost, sort_key, concurrency_key, requires, child_results
      FROM moved
      RETURNING id, queue`,
    retryScheduled: `UPDATE ${s}.jobs SET state = 'ready', run_at = $2, updated_at = $2, expire_at = NULL
      WHERE id = ANY($1::uuid[]) AND state = 'scheduled' AND run_at <> ${FLOW_WAIT_AT} RETURNING id, queue`,

    lockExpired: `SELECT id FROM ${s}.jobs WHERE state = 'active' AND lease_expires_at <= $1
      ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    reapDead: `WITH moved AS (
        DELETE FROM ${s}.jobs WHERE id = ANY($1::uuid[]) AND state = 'active' AND (stalls + 1 >= max_stalls OR attempt >= max_attempts)
        RETURNING *)
      ${finish('dead', '$2', hist('', 'expired', '$2'), LEASE_EXPIRED, 'NULL::jsonb', "CASE WHEN stalls + 1 >= max_stalls THEN 'poison' ELSE 'max-attempts' END", 'stalls + 1')}
      RETURNING id, token, queue, state, dead_reason`,
    reapReady: `WITH upd AS (
        UPDATE ${s}.jobs SET state = 'ready', stalls = stalls + 1, run_at = $2, last_error = ${LEASE_EXPIRED},
          lease_expires_at = NULL, worker_id = NULL, updated_at = $2, history = ${hist('', 'expired', '$2')}
        WHERE id = ANY($1::uuid[]) AND state = 'active'
        RETURNING id, token, queue, state),
      ${notify('upd', '$3')}
      SELECT id, token, queue, state, NULL::text AS dead_reason FROM upd WHERE ${forced}`,

    promote: `WITH upd AS (
        UPDATE ${s}.jobs SET state = 'ready', updated_at = $1
        WHERE id IN (SELECT id FROM ${s}.jobs WHERE state = 'scheduled' AND run_at <= $1 ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING queue),
      ${notify('upd', '$3')}
      SELECT queue FROM upd WHERE ${forced}`,

    purge: `DELETE FROM ${s}.jobs WHERE id IN (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND state IN ('ready', 'scheduled') LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    // Not the children of waiting flows: the settling reads how they ended (docs/flows.md).
    deleteFinished: `DELETE FROM ${s}.jobs_finished WHERE id IN (
        SELECT id FROM ${s}.jobs_finished WHERE state = $1 AND finished_at < $2
          AND id NOT IN (SELECT c.child_id FROM ${s}.flows f JOIN ${s}.flow_children c ON c.parent_id = f.parent_id WHERE f.state = 'waiting')
        ORDER BY finished_at LIMIT $3)`,

    // Operator delete, after lockAny: never an active job, whatever happened since the lock (the state is checked by the delete).
    deleteLiveById: `DELETE FROM ${s}.jobs WHERE id = ANY($1::uuid[]) AND state <> 'active' RETURNING id, queue, state`,
    deleteFinishedById: `DELETE FROM ${s}.jobs_finished WHERE id = ANY($1::uuid[]) RETURNING id, queue, state`,

    // One step of deleting a queue, in one transaction: lock its row (a concurrent delete, configure or pause waits),
    // count its active jobs, delete a batch ($2: force, so active jobs too), and its row once no job is left.
    queueLock: `SELECT name FROM ${s}.queues WHERE name = $1 FOR UPDATE`,
    queueActive: `SELECT count(*)::int AS n FROM ${s}.jobs WHERE queue = $1 AND state = 'active'`,
    queueDeleteLive: `DELETE FROM ${s}.jobs WHERE id IN (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ($2::boolean OR state <> 'active') LIMIT $3)
      AND ($2::boolean OR state <> 'active')
      RETURNING id, state, token`,
    queueDeleteFinished: `DELETE FROM ${s}.jobs_finished WHERE id IN (SELECT id FROM ${s}.jobs_finished WHERE queue = $1 LIMIT $2)`,
    queueHasJobs: `SELECT EXISTS (SELECT 1 FROM ${s}.jobs WHERE queue = $1) OR EXISTS (SELECT 1 FROM ${s}.jobs_finished WHERE queue = $1) AS remaining`,
    queueDeleteRow: `DELETE FROM ${s}.queues WHERE name = $1`,

    get: `SELECT ${liveAsFinished} FROM ${s}.jobs j WHERE id = ANY($1::uuid[])
      UNION ALL SELECT ${FINISHED_JOB} FROM ${s}.jobs_finished WHERE id = ANY($1::uuid[])`,
    // One snapshot reads both tables, so a job moving between them is seen once.
    logs: `SELECT logs FROM ${s}.jobs WHERE id = $1::uuid UNION ALL SELECT logs FROM ${s}.jobs_finished WHERE id = $1::uuid`,
    lookup: `SELECT id, state, token, queue FROM ${s}.jobs WHERE id = ANY($1::uuid[])
      UNION ALL SELECT id, state, token, queue FROM ${s}.jobs_finished WHERE id = ANY($1::uuid[])`,
    // The name filter ($5, $4 in listAll; null for none) has no index: it is checked on each row of the queue (and state) from the cursor on.
    // The id range is after the cursor and up to $6 ($5 in listAll): a creation time range, read from the index range alone.
    listLive: `SELECT ${liveAsFinished} FROM ${s}.jobs j WHERE queue = $1 AND state = $2 AND id > $3::uuid AND id <= $6::uuid AND ($5::text IS NULL OR name = $5)
      ORDER BY id LIMIT $4`,
    listFinished: `SELECT ${FINISHED_JOB} FROM ${s}.jobs_finished WHERE queue = $1 AND state = $2 AND id > $3::uuid AND id <= $6::uuid AND ($5::text IS NULL OR name = $5)
      ORDER BY id LIMIT $4`,
    // Across states: one bounded range of the (queue, state, id) indexes per state, merged in id order. The indexes
    // give id order only within a state; walking the primary keys instead would pass every other queue's jobs.
    listAll: `SELECT * FROM (${[
        ...LIVE_STATES.map((st) => `SELECT ${liveAsFinished} FROM ${s}.jobs j WHERE queue = $1 AND state = '${st}'`),
        ...FINISHED_STATES.map((st) => `SELECT ${FINISHED_JOB} FROM ${s}.jobs_finished WHERE queue = $1 AND state = '${st}'`),
      ].map((q) => `(${q} AND id > $2::uuid AND id <= $5::uuid AND ($4::text IS NULL OR name = $4) ORDER BY id LIMIT $3)`).join(' UNION ALL ')}) x
      ORDER BY id LIMIT $3`,
    // By group: ranges of the (queue, group_key, id) indexes from the cursor, in the table of the state ($5; null: both,
    // each range cut by the limit, merged in id order); the state and name ($6) filters apply to the group's rows alone.
    // $1 queue · $2 group · $3 after · $4 to · $5 state · $6 name · $7 limit.
    listGroup: (where: 'live' | 'finished' | 'all') => {
      const range = (from: string, cols: string) => `(SELECT ${cols} FROM ${from} WHERE queue = $1 AND group_key = $2 AND id > $3::uuid AND id <= $4::uuid
        AND ($5::text IS NULL OR state = $5) AND ($6::text IS NULL OR name = $6) ORDER BY id LIMIT $7)`;
      const live = range(`${s}.jobs j`, liveAsFinished);
      const finished = range(`${s}.jobs_finished`, FINISHED_JOB);
      return `SELECT * FROM (${where === 'live' ? live : where === 'finished' ? finished : `${live} UNION ALL ${finished}`}) x ORDER BY id LIMIT $7`;
    },
    search: (where: 'live' | 'finished' | 'all', depth: number) => pgSearch(s, where, depth, liveAsFinished),
    nextDue: `SELECT min(run_at) AS at FROM ${s}.jobs WHERE state = 'scheduled'`,
    // Never a count over the jobs: the counts kept by migration 6's triggers (queue_counts plus the
    // deltas not folded yet, in this statement's one snapshot, so a concurrent fold is seen whole or
    // not at all). The oldest ready time of each queue with ready jobs is a loose index scan of
    // jobs_ready: from one priority present to the next lower one, then the first run_at of each,
    // one index seek per step: twice the distinct priorities of its ready jobs, whatever their number.
    stats: `WITH RECURSIVE counts AS (
        SELECT queue, state, sum(n)::int AS n FROM (
          SELECT queue, state, n FROM ${s}.queue_counts WHERE $1::text IS NULL OR queue = $1
          UNION ALL SELECT queue, state, d FROM ${s}.queue_count_deltas WHERE $1::text IS NULL OR queue = $1) x
        GROUP BY queue, state HAVING sum(n) <> 0),
      p(queue, priority) AS (
        SELECT queue, (SELECT priority FROM ${s}.jobs WHERE state = 'ready' AND queue = c.queue ORDER BY priority DESC LIMIT 1)
        FROM counts c WHERE state = 'ready' AND n > 0
        UNION ALL
        SELECT queue, (SELECT priority FROM ${s}.jobs WHERE state = 'ready' AND queue = p.queue AND priority < p.priority ORDER BY priority DESC LIMIT 1)
        FROM p WHERE priority IS NOT NULL)
      SELECT name AS queue, 'queue' AS kind, NULL::text AS state, 0 AS n, NULL::bigint AS at, paused
        FROM ${s}.queues WHERE $1::text IS NULL OR name = $1
      UNION ALL SELECT queue, 'count', state, n, NULL, NULL FROM counts
      UNION ALL SELECT queue, 'oldest', NULL, 0,
          min((SELECT run_at FROM ${s}.jobs WHERE state = 'ready' AND queue = p.queue AND priority = p.priority ORDER BY run_at LIMIT 1)), NULL
        FROM p WHERE priority IS NOT NULL GROUP BY queue`,
    // The leader's fold of the deltas into the counts (one statement: the deltas it deletes are the
    // ones it adds), then the rows at 0 (a deleted queue's, a drained state's) go.
    countsRollup: `WITH d AS (DELETE FROM ${s}.queue_count_deltas RETURNING queue, state, d)
      INSERT INTO ${s}.queue_counts (queue, state, n)
      SELECT queue, state, sum(d) FROM d GROUP BY queue, state HAVING sum(d) <> 0 ORDER BY queue, state
      ON CONFLICT (queue, state) DO UPDATE SET n = ${s}.queue_counts.n + excluded.n`,
    countsDropZero: `DELETE FROM ${s}.queue_counts WHERE n = 0`,

    workerRegister: `INSERT INTO ${s}.workers (id, host, pid, started_at, heartbeat_at, expires_at, consumers) VALUES ($1, $2, $3, $4, $4, $5, $6::jsonb)
      ON CONFLICT (id) DO UPDATE SET heartbeat_at = $4, expires_at = $5, consumers = $6::jsonb`,
    workerAnnounce: `UPDATE ${s}.workers SET consumers = $2::jsonb WHERE id = $1`,
    // Resource-aware dispatch: the distinct required tag sets among each queue's ready jobs (a loose scan
    // of the partial index jobs_requires, one seek per set), what live processes consume, the ready jobs of one set.
    requiresSets: `WITH RECURSIVE r(queue, requires) AS (
        SELECT q.name, (SELECT requires FROM ${s}.jobs WHERE queue = q.name AND requires IS NOT NULL AND state = 'ready' ORDER BY requires LIMIT 1)
        FROM ${s}.queues q WHERE $1::text IS NULL OR q.name = $1
        UNION ALL
        SELECT queue, (SELECT requires FROM ${s}.jobs WHERE queue = r.queue AND requires IS NOT NULL AND state = 'ready' AND requires > r.requires
                       ORDER BY requires LIMIT 1)
        FROM r WHERE requires IS NOT NULL)
      SELECT queue, requires FROM r WHERE requires IS NOT NULL`,
    liveConsumers: `SELECT consumers FROM ${s}.workers WHERE expires_at > $1 AND consumers <> '[]'::jsonb`,
    requiresCount: `SELECT count(*)::int AS n FROM ${s}.jobs WHERE queue = $1 AND requires = $2 AND requires IS NOT NULL AND state = 'ready'`,
    workerHeartbeat: `UPDATE ${s}.workers SET heartbeat_at = $2, expires_at = $3 WHERE id = $1 RETURNING id`,
    workerUnregister: `DELETE FROM ${s}.workers WHERE id = $1`,
    // The database server's clock (not the transaction's start): every process's time is set by it.
    storeTime: `SELECT extract(epoch from clock_timestamp()) * 1000 AS t`,
    // Workers that stopped beating (a small table: cheap to ask every tick).
    // The caller ($2) is never presumed dead by itself: it is running.
    deadWorkers: `SELECT id FROM ${s}.workers WHERE expires_at <= $1 AND ($2::uuid IS NULL OR id <> $2::uuid)`,
    // Active jobs of those workers: their leases end now, not at their visibility timeout.
    lockOrphaned: `SELECT id FROM ${s}.jobs WHERE state = 'active' AND worker_id = ANY($1::uuid[])
      LIMIT $2 FOR UPDATE SKIP LOCKED`,
    deadTuples: `SELECT n_dead_tup::int8 AS dead FROM pg_stat_user_tables WHERE relid = '${s}.jobs'::regclass`,
    deltaDeadTuples: `SELECT n_dead_tup::int8 AS dead FROM pg_stat_user_tables WHERE relid = '${s}.queue_count_deltas'::regclass`,
    workersDeleteDead: `DELETE FROM ${s}.workers w WHERE w.expires_at <= $1 AND ($2::uuid IS NULL OR w.id <> $2::uuid)
      AND NOT EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.worker_id = w.id AND j.state = 'active')`,

    leaderAcquire: `INSERT INTO ${s}.leaders (name, holder, epoch, expires_at)
      VALUES ($1, $2, 1, clock_timestamp() + $3::int * interval '1 millisecond')
      -- The deadline is taken when the row is finally locked (the statement may have waited for a running duty).
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = clock_timestamp() + $3::int * interval '1 millisecond',
        epoch = CASE WHEN ${s}.leaders.holder = excluded.holder THEN ${s}.leaders.epoch ELSE ${s}.leaders.epoch + 1 END
      WHERE ${s}.leaders.holder = excluded.holder OR ${s}.leaders.expires_at < clock_timestamp()
      RETURNING epoch`,
    leaderCheck: `SELECT 1 FROM ${s}.leaders WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp() FOR SHARE`,
    leaderResign: `DELETE FROM ${s}.leaders WHERE name = $1 AND holder = $2`,

    queueUpsert: `INSERT INTO ${s}.queues (name, config, created_at, updated_at) VALUES ($1, $2::text::jsonb, $3, $3)
      ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
    queueGet: `SELECT * FROM ${s}.queues WHERE name = $1`,
    queueList: `SELECT * FROM ${s}.queues ORDER BY name`,
    queuePause: `UPDATE ${s}.queues SET paused = $2, updated_at = $3 WHERE name = $1`,

    // Bounded queues (bounds.ts). The inserts into one bounded queue take this lock, held to the
    // end of their transaction, so no two of them count at once; $1 is the schema-qualified queue name.
    boundLock: `SELECT pg_advisory_xact_lock(${BOUND_LOCK}, hashtext($1)) IS NULL AS waited`,
    // The queue's jobs waiting to start: its counts plus the deltas not folded yet, in one
    // snapshot, taken after the lock, so every bounded insert committed before it is counted.
    boundWaiting: `SELECT coalesce(sum(n), 0)::int8 AS n FROM (
        SELECT n FROM ${s}.queue_counts WHERE queue = $1 AND state IN ('ready', 'scheduled')
        UNION ALL SELECT d FROM ${s}.queue_count_deltas WHERE queue = $1 AND state IN ('ready', 'scheduled')) x`,
    // Drops the $2 oldest waiting jobs of queue $1 (by id: the order of their adds; one seek of
    // jobs_queue_state per state) to dead, reason 'dropped', at $3. A job a claim holds at that
    // moment is passed over when the claim commits (it is no longer waiting: the count fell too).
    boundDrop: `WITH x AS (
        SELECT id FROM ((SELECT id FROM ${s}.jobs WHERE queue = $1 AND state = 'ready' ORDER BY id LIMIT $2)
          UNION ALL (SELECT id FROM ${s}.jobs WHERE queue = $1 AND state = 'scheduled' ORDER BY id LIMIT $2)) o
        ORDER BY id LIMIT $2),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) AND state IN ('ready', 'scheduled') RETURNING *)
      ${finish('dead', '$3', 'history', `'${DROPPED_ERROR}'`, 'NULL::jsonb', "'dropped'")}
      RETURNING id`,
  };
}

/** The advisory lock class of bounded inserts (pg_advisory_xact_lock(class, hashtext(queue))); the migration's is 0x5f00_1000. */
const BOUND_LOCK = 0x5f00_2000;

/**
 * A bounded payload search (Store.jobsSearch) of the live table, the finished one, or both
 * (no state given), for a field `depth` keys deep. Parameters: $1 queue, $2 after, $3 to,
 * $4 scan bound, $5 limit, $6 value (JSON text), $7 name (null: any), $8 group (null: any), $9… the keys, then $N the
 * state (not in `all`). The scan reads at most $4 jobs of the (queue, state, id) index range;
 * the match is checked on those alone. Keys are followed with `->` and a text operand, which
 * reads object fields only (`#>` would take "0" as an array index; SQLite does not). jsonb
 * equality compares numbers as numbers (1 = 1.0) and tells strings, numbers, booleans and null
 * apart; a missing field is SQL NULL, equal to nothing. Every answer carries the scan's count
 * and last id (a LEFT JOIN onto one row), so an empty page still says where the scan stopped.
 */
function pgSearch(s: string, where: 'live' | 'finished' | 'all', depth: number, liveAsFinished: string): string {
  const field = 'payload' + Array.from({ length: depth }, (_, i) => ` -> $${9 + i}::text`).join('');
  const state = `$${9 + depth}`;
  const range = (t: string, st: string) => `FROM ${t} WHERE queue = $1 AND state = ${st} AND id > $2::uuid AND id <= $3::uuid ORDER BY id LIMIT $4`;
  const live = (st: string) => `SELECT ${liveAsFinished} ${range(`${s}.jobs j`, st)}`;
  const finished = (st: string) => `SELECT ${FINISHED_JOB} ${range(`${s}.jobs_finished`, st)}`;
  // Across states, one bounded index range per state, merged in id order: the index gives id
  // order only within a state (walking the primary key instead would pass every other queue's jobs).
  const scan = where === 'live' ? live(state) : where === 'finished' ? finished(state)
    : `SELECT * FROM (${[...LIVE_STATES.map((st) => live(`'${st}'`)), ...FINISHED_STATES.map((st) => finished(`'${st}'`))].map((q) => `(${q})`).join(' UNION ALL ')}) x ORDER BY id LIMIT $4`;
  return `WITH scan AS MATERIALIZED (${scan})
    SELECT c.scan_n, c.scan_last, m.* FROM (SELECT count(*)::int AS scan_n, (SELECT id FROM scan ORDER BY id DESC LIMIT 1) AS scan_last FROM scan) c
    LEFT JOIN LATERAL (SELECT * FROM scan WHERE ${field} = $6::jsonb AND ($7::text IS NULL OR name = $7) AND ($8::text IS NULL OR group_key = $8) ORDER BY id LIMIT $5) m ON true
    ORDER BY m.id`;
}
