/**
 * Every SQL statement of the PostgreSQL store, built once per schema. Each one is a
 * single atomic statement (or a pair in one transaction, noted), checking state and
 * lease token in its WHERE clause, so no interleaving can move a finished job back.
 * Batch statements take parallel arrays and `unnest` them.
 */

import { DROPPED_ERROR, EXPIRED_ERROR } from '../../core/job.ts';
import { concurrencyPick } from '../concurrency-claim.ts';

const LIVE_COLUMNS = `id, queue, name, payload, priority, state, run_at, attempt, max_attempts, stalls, max_stalls, token,
  lease_expires_at, started_at, worker_id, created_at, updated_at, last_error, history, timeout_ms, progress, logs, trace, group_key, expire_at, cost, sort_key, concurrency_key`;
const FINISHED_COLUMNS = `${LIVE_COLUMNS}, finished_at, result, dead_reason`;
/**
 * The columns a Job is read from (qualified by `t`), in the same order from both tables, so
 * the two can be read with UNION ALL whatever order the migrations gave their columns. Not
 * `logs`: they can be large, and only jobLogs reads them.
 */
const jobColumns = (t = '') => ['id', 'queue', 'name', 'payload', 'priority', 'state', 'run_at', 'attempt', 'max_attempts', 'stalls', 'max_stalls',
  'token', 'lease_expires_at', 'created_at', 'updated_at', 'last_error', 'history', 'timeout_ms', 'progress', 'trace', 'group_key', 'expire_at', 'cost', 'concurrency_key'].map((c) => t + c).join(', ');
const FINISHED_JOB = `${jobColumns()}, finished_at, result, dead_reason`;
const LIVE_STATES = ['scheduled', 'ready', 'active'] as const;
const FINISHED_STATES = ['completed', 'dead', 'cancelled'] as const;
const LEASE_EXPIRED = `'lease expired: the worker died, stalled, or lost its connection'`;
/** Live jobs never leased whose start deadline has passed by $2 (an index of them: jobs_expiring). */
const PAST_DEADLINE = `expire_at IS NOT NULL AND token = 0 AND expire_at <= $2`;

export type PgStatements = ReturnType<typeof pgStatements>;

export function pgStatements(s: string, historyMax: number) {
  /** history with one attempt record appended (oldest dropped past historyMax); `t` qualifies the job's columns. */
  const hist = (t: string, outcome: string, endedAt: string, error?: string) =>
    `(CASE WHEN jsonb_array_length(${t}history) >= ${historyMax} THEN ${t}history - 0 ELSE ${t}history END) || jsonb_build_array(jsonb_build_object(` +
    `'attempt', ${t}attempt, 'token', ${t}token, 'startedAt', ${t}started_at, 'endedAt', ${endedAt}::bigint, 'outcome', '${outcome}'` +
    `${error ? `, 'error', ${error}` : ''}))`;
  /** Runs pg_notify for each distinct queue of CTE `from` (when a channel is given), and forces it to run. */
  const notify = (from: string, channel: string, where = 'true') =>
    `n AS (SELECT pg_notify(${channel}, queue) FROM (SELECT DISTINCT queue FROM ${from} WHERE ${where}) q WHERE ${channel}::text IS NOT NULL)`;
  const forced = `(SELECT count(*) FROM n) >= 0`;
  /** Columns for INSERT INTO jobs_finished … SELECT from a CTE `moved` of live rows. */
  const finish = (state: string, now: string, history: string, lastError = 'last_error', result = 'NULL::jsonb', deadReason = 'NULL::text', stalls = 'stalls') =>
    `INSERT INTO ${s}.jobs_finished (${FINISHED_COLUMNS}, unique_key, unique_until)
     SELECT id, queue, name, payload, priority, '${state}', run_at, attempt, max_attempts, ${stalls}, max_stalls, token,
            NULL, started_at, worker_id, created_at, ${now}, ${lastError}, ${history}, timeout_ms, progress, logs, trace, group_key, expire_at, cost, sort_key, concurrency_key, ${now}, ${result}, ${deadReason},
            CASE WHEN unique_until > ${now}::int8 THEN unique_key END, unique_until
     FROM moved`;
  const liveAsFinished = `${jobColumns()}, NULL::bigint AS finished_at, NULL::jsonb AS result, NULL::text AS dead_reason`;
  /**
   * CTEs `ins` (the new jobs, taken from `from`, a row source with the insert's columns), `qs`
   * (the row of each queue that has none yet, inserted in name order, so two inserts that both
   * create queues cannot deadlock) and `n` (a notification per queue with ready jobs, on $13).
   */
  const insertJobs = (source: string, where: string, fair: boolean, unique = false) => `${fair ? `${fairTags(source, where)},` : ''}
      ins AS (
        INSERT INTO ${s}.jobs (id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, timeout_ms, trace, group_key, expire_at, created_at, updated_at, cost, concurrency_key, sort_key${unique ? ', unique_key, unique_until' : ''})
        SELECT id, queue, name, payload::jsonb, priority, state, run_at, max_attempts, max_stalls, timeout_ms, trace::jsonb, group_key, expire_at, created_at, created_at, cost, concurrency_key,
          ${sortKey(fair)}${unique ? ', ukey, uuntil' : ''}
        FROM ${source} ${fair ? 'LEFT JOIN tg ON tg.n = t.n' : ''} ${where}
        RETURNING queue, state, created_at),
      qs AS (
        INSERT INTO ${s}.queues (name, config, created_at, updated_at)
        SELECT queue, '{}'::jsonb, min(created_at), min(created_at) FROM ins GROUP BY queue ORDER BY queue
        ON CONFLICT (name) DO NOTHING),
      ${notify('ins', '$13', "state = 'ready'")}`;

  /**
   * The sort key of a new job (`t`: its row, with `policy` and `w` from JobOrder: agingMs,
   * costFactor or the group's weight), NULL for fifo: see NewJobRow.order. A fair row's tag comes
   * from the CTEs of {@link fairTags}.
   */
  const sortKey = (fair: boolean) => `CASE t.policy
          WHEN 'priority' THEN t.run_at - t.priority * t.w
          WHEN 'sjf' THEN t.run_at + coalesce(t.cost, (SELECT e.mean_ms FROM ${s}.run_estimates e WHERE e.queue = t.queue AND e.name = t.name), 0) * t.w
          ${fair ? `WHEN 'fair' THEN tg.tag` : ''}
          END`;
  /**
   * Fair rows: `fr` ranks them per (queue, group) in order, `fg` counts them per group, `fv` is
   * each queue's virtual time (the smallest key among its ready jobs, or the largest tag issued),
   * and `ft` moves each group's last tag on by its rows, from max(V, last): the k-th of n rows of
   * a group of weight w gets last − (n − k) / w (`tg`, joined to the rows by their ordinal). The
   * upsert locks the group's row, so two adds of one group take turns and never issue the same
   * tags; groups are locked in (queue, group) order.
   */
  const fairTags = (source: string, where: string) => `fr AS (
        SELECT n, queue, g, w, row_number() OVER (PARTITION BY queue, g ORDER BY n) AS k
        FROM (SELECT t.n, t.queue, coalesce(t.group_key, '') AS g, t.w, t.policy FROM ${source} ${where}) x WHERE policy = 'fair'),
      fg AS (SELECT queue, g, count(*) AS cnt, min(w) AS w FROM fr GROUP BY queue, g),
      fv AS (
        SELECT q.queue, coalesce(
          (SELECT j.sort_key FROM ${s}.jobs j WHERE j.queue = q.queue AND j.state = 'ready' AND j.sort_key IS NOT NULL ORDER BY j.sort_key LIMIT 1),
          (SELECT max(f.last_tag) FROM ${s}.fair_tags f WHERE f.queue = q.queue), 0) AS v
        FROM (SELECT DISTINCT queue FROM fg) q),
      ft AS (
        INSERT INTO ${s}.fair_tags AS f (queue, group_key, last_tag)
        SELECT fg.queue, fg.g, fv.v + fg.cnt / fg.w FROM fg JOIN fv ON fv.queue = fg.queue ORDER BY fg.queue, fg.g
        ON CONFLICT (queue, group_key) DO UPDATE SET last_tag = greatest(excluded.last_tag,
          f.last_tag + (SELECT fg.cnt / fg.w FROM fg WHERE fg.queue = excluded.queue AND fg.g = excluded.group_key))
        RETURNING f.queue, f.group_key, f.last_tag),
      tg AS (
        SELECT fr.n, ft.last_tag - (fg.cnt - fr.k) / fg.w AS tag
        FROM fr JOIN fg ON fg.queue = fr.queue AND fg.g = fr.g JOIN ft ON ft.queue = fr.queue AND ft.group_key = fr.g)`;
  const unnestRows = `unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int8[], $8::int[], $9::int[], $10::int8[], $11::int[], $12::text[], $14::text[], $15::int8[], $16::float8[], $17::text[], $18::float8[], $19::text[])`;
  const rowColumns = 'id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, created_at, timeout_ms, trace, group_key, expire_at, cost, policy, w, concurrency_key';
  const plainInsert = (fair: boolean) => `WITH ${insertJobs(`${unnestRows} WITH ORDINALITY AS t(${rowColumns}, n)`, '', fair)}
      SELECT 1 WHERE ${forced}`;
  const keyedInsert = (fair: boolean) => `WITH t AS (
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int8[], $8::int[], $9::int[], $10::int8[], $11::int[], $12::text[], $14::text[], $15::int8[], $16::float8[], $17::text[], $18::float8[], $19::text[], $20::text[], $21::int8[], $23::text[], $24::int8[])
          WITH ORDINALITY AS t(${rowColumns}, key, since, ukey, uuntil, n)),
      h AS (
        SELECT n, holder FROM (
          SELECT t.n, coalesce(
            (SELECT j.id FROM ${s}.jobs j WHERE j.queue = t.queue AND j.unique_key = t.ukey),
            (SELECT f.id FROM ${s}.jobs_finished f WHERE f.queue = t.queue AND f.unique_key = t.ukey AND f.unique_until > t.created_at
             ORDER BY f.unique_until DESC LIMIT 1)) AS holder
          FROM t WHERE t.ukey IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ${s}.publish_keys p WHERE p.queue = t.queue AND p.key = t.key AND p.created_at >= t.since)) x
        WHERE holder IS NOT NULL),
      k AS (
        INSERT INTO ${s}.publish_keys AS p (queue, key, job_id, created_at)
        SELECT DISTINCT ON (queue, key) queue, key, id, created_at FROM t WHERE key IS NOT NULL AND n NOT IN (SELECT n FROM h) ORDER BY queue, key, n
        ON CONFLICT (queue, key) DO UPDATE SET
          (job_id, created_at) = (SELECT CASE WHEN p.created_at < w.since THEN excluded.job_id ELSE p.job_id END,
                                         CASE WHEN p.created_at < w.since THEN excluded.created_at ELSE p.created_at END
                                  FROM (SELECT coalesce(excluded.created_at - $22::int8,
                                    (SELECT f.since FROM t f WHERE f.queue = excluded.queue AND f.key = excluded.key ORDER BY f.n LIMIT 1)) AS since) w)
        RETURNING p.queue, p.key, p.job_id),
      ${insertJobs('t', 'WHERE (t.key IS NULL OR t.id IN (SELECT job_id FROM k)) AND t.n NOT IN (SELECT n FROM h)', fair, true)}
      SELECT queue, key, job_id::text AS job_id, NULL::int8 AS n FROM k WHERE job_id NOT IN (SELECT id FROM t) AND ${forced}
      UNION ALL SELECT NULL, NULL, holder::text, n FROM h`;

  const limitedClaim = (byKey: boolean) => `WITH x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      picked AS (${concurrencyPick({
        table: `${s}.jobs`, queue: '$1', limit: '$3', defaultLimit: '$6::int', groupFifo: '$8::boolean', yes: 'true',
        states: `state IN ('ready', 'active', 'scheduled') AND (state <> 'scheduled' OR $8::boolean OR run_at <= $2)`,
        eligible: `(state = 'ready' OR (state = 'scheduled' AND run_at <= $2)) AND NOT (${PAST_DEADLINE})`,
        keyLimit: `($7::jsonb ->> ck)::int`,
      }, byKey)})
      UPDATE ${s}.jobs j SET state = 'active', attempt = j.attempt + 1, token = j.token + 1, lease_expires_at = $4,
        started_at = $2, updated_at = $2, worker_id = $5::uuid
      FROM picked WHERE j.id = picked.id AND j.state IN ('ready', 'scheduled')
      RETURNING ${jobColumns('j.')}, picked.sort_key`;

  return {
    // The jobs, and the row of each queue that has none yet (config '{}': every setting at its
    // default), in one statement: a refused insert leaves no queue behind. New queues are
    // inserted in name order, so two inserts that both create queues cannot deadlock.
    insert: plainInsert(false),
    // The same, for rows of a queue with policy fair: their tags are issued by the same statement.
    insertFair: plainInsert(true),

    // An insert whose rows carry idempotency keys, in one statement (so one round trip, atomic
    // without a transaction of its own): the insert above, plus $19 the rows' concurrency keys, $20 the keys (NULL: none) and
    // $21 since (a held key recorded before it is past the window); $22, when every keyed row has
    // the same window (created_at - since, as the engine's do), that window, so a held key finds its
    // since without a scan of the batch (a re-sent batch of 1,000 would cost a million comparisons).
    // Each key is recorded for the first of its rows, in (queue, key) order, so two adds whose
    // keys overlap wait for each other in one order and cannot deadlock. A key the queue holds is
    // "updated" to itself (DO UPDATE, not DO NOTHING), so RETURNING gives the id it names even
    // when a concurrent add committed it after this statement began (ON CONFLICT waits for that
    // add and sees its row; a plain read here would not); past the window, it is taken over. Only
    // the rows whose id a key now names, and those without a key, are stored. Returns (queue, key,
    // job_id) for the keys that name another job than this insert's (none, mostly: the reply of
    // a batch stays small).
    // Unique keys ($23, NULL: none; $24 their windows' ends) ride on the same statement: `h` finds
    // the live job holding each row's key (index jobs_unique), else a finished one whose window
    // holds it past the row's created_at (jobs_finished_unique: a job keeps its key in
    // jobs_finished only while its window is open when it finishes), unless the row's
    // idempotency key is held (a replay wins);
    // such a row is neither stored nor given an idempotency key, and comes back as (NULL, NULL,
    // holder, its ordinal n). A holder committed after the statement's snapshot is not seen: the
    // insert then fails on jobs_unique (waiting for the other add to commit first), and the
    // caller runs the statement again (publish-keys.ts), which sees it. One batch never carries
    // one unique key twice (the caller keeps the first row).
    insertKeyed: keyedInsert(false),
    insertKeyedFair: keyedInsert(true),
    publishKeysDeleteQueue: `DELETE FROM ${s}.publish_keys WHERE queue = $1`,
    publishKeysDelete: `DELETE FROM ${s}.publish_keys WHERE ctid IN (SELECT ctid FROM ${s}.publish_keys WHERE created_at < $1 LIMIT $2)`,

    // Ready jobs in claim order, plus scheduled jobs that are due (so a delay is honoured even between
    // maintenance ticks); rows another claimer holds are skipped, never waited for. Jobs past their
    // start deadline are never leased: up to $3 of the queue's (found by jobs_expiring, so a queue
    // without deadlines costs one empty seek) move to dead in this statement, and the rest are passed over.
    claim: `WITH x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      r AS (
        SELECT id, priority, run_at FROM ${s}.jobs WHERE queue = $1 AND state = 'ready' AND NOT (${PAST_DEADLINE})
        ORDER BY priority DESC, run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED),
      d AS (
        SELECT id, priority, run_at FROM ${s}.jobs WHERE state = 'scheduled' AND run_at <= $2 AND queue = $1 AND NOT (${PAST_DEADLINE})
        ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      picked AS (SELECT id FROM (SELECT * FROM r UNION ALL SELECT * FROM d) c ORDER BY priority DESC, run_at, id LIMIT $3)
      UPDATE ${s}.jobs j SET state = 'active', attempt = j.attempt + 1, token = j.token + 1, lease_expires_at = $4,
        started_at = $2, updated_at = $2, worker_id = $5::uuid
      FROM picked WHERE j.id = picked.id
      RETURNING ${jobColumns('j.')}`,
    // The claim of a queue whose policy is not fifo: as above, by sort key (see NewJobRow.order); the
    // rows' keys come back too, so the store can give the jobs in that order.
    claimByKey: `WITH x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      r AS (
        SELECT id, sort_key FROM ${s}.jobs WHERE queue = $1 AND state = 'ready' AND sort_key IS NOT NULL AND NOT (${PAST_DEADLINE})
        ORDER BY sort_key, id LIMIT $3 FOR UPDATE SKIP LOCKED),
      d AS (
        SELECT id, sort_key FROM ${s}.jobs WHERE state = 'scheduled' AND run_at <= $2 AND queue = $1 AND sort_key IS NOT NULL AND NOT (${PAST_DEADLINE})
        ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      picked AS (SELECT id, sort_key FROM (SELECT * FROM r UNION ALL SELECT * FROM d) c ORDER BY sort_key, id LIMIT $3)
      UPDATE ${s}.jobs j SET state = 'active', attempt = j.attempt + 1, token = j.token + 1, lease_expires_at = $4,
        started_at = $2, updated_at = $2, worker_id = $5::uuid
      FROM picked WHERE j.id = picked.id
      RETURNING ${jobColumns('j.')}, picked.sort_key`,
    // The claim of a queue with per-key concurrency limits or group FIFO (ClaimParams.concurrency), fifo
    // order and by sort key: run after the queue's claim lock (claimLock), so the active jobs it counts
    // are every claim's that committed. $6 the limit of a key not named (NULL: none) · $7 the limits of
    // the keys named (JSON) · $8 group FIFO. Expired jobs move to dead as in claim; they are never picked.
    claimLimited: limitedClaim(false),
    claimLimitedByKey: limitedClaim(true),
    // Serializes the limited claims of a queue ($1, schema-qualified) to the end of the transaction.
    claimLock: `SELECT pg_advisory_xact_lock(${CLAIM_LOCK}, hashtext($1)) IS NULL AS waited`,
    // Policy sjf: the run times of applied acks folded into their names' estimates, per (queue, name) as their mean
    // ($1 queues · $2 names · $3 run times · $4 the weight of a new sample in percent), in key order.
    estimatesLearn: `WITH t AS (
        SELECT queue, name, avg(run_ms) AS m, count(*) AS c, max(pct) AS pct
        FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[]) AS t(queue, name, run_ms, pct) GROUP BY queue, name)
      INSERT INTO ${s}.run_estimates AS e (queue, name, mean_ms, samples) SELECT queue, name, m, c FROM t ORDER BY queue, name
      ON CONFLICT (queue, name) DO UPDATE SET samples = e.samples + excluded.samples,
        mean_ms = e.mean_ms + (excluded.mean_ms - e.mean_ms) * (SELECT t.pct FROM t WHERE t.queue = excluded.queue AND t.name = excluded.name) / 100.0`,
    estimateGet: `SELECT mean_ms FROM ${s}.run_estimates WHERE queue = $1 AND name = $2`,
    estimatesDeleteQueue: `DELETE FROM ${s}.run_estimates WHERE queue = $1`,
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
      ${finish('completed', '$4', hist('', 'completed', '$4'), 'last_error', 'new_result')}
      RETURNING id, token`,

    // The first of a pair run in one transaction: attempts used up (or unrecoverable) → dead.
    failDead: `WITH input AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int8[], $5::int[]) AS t(id, token, error, retry_at, unrec)),
      moved AS (
        DELETE FROM ${s}.jobs j USING input i
        WHERE j.id = i.id AND j.token = i.token AND j.state = 'active' AND (i.unrec = 1 OR j.attempt >= j.max_attempts)
        RETURNING j.*, i.error AS new_error, i.unrec = 1 AS new_unrec)
      ${finish('dead', '$6', hist('', 'failed', '$6', 'new_error'), 'new_error', 'NULL::jsonb', "CASE WHEN new_unrec THEN 'unrecoverable' ELSE 'max-attempts' END")}
      RETURNING id, token, state, dead_reason`,
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
        created_at, updated_at, last_error, history, timeout_ms, progress, logs, trace, group_key, cost, sort_key, concurrency_key)
      SELECT id, queue, name, payload, priority, 'ready', $2, 0, max_attempts, 0, max_stalls, token, created_at, $2, last_error, history,
        timeout_ms, progress, logs, trace, group_key, cost, sort_key, concurrency_key
      FROM moved
      RETURNING id, queue`,
    retryScheduled: `UPDATE ${s}.jobs SET state = 'ready', run_at = $2, updated_at = $2, expire_at = NULL
      WHERE id = ANY($1::uuid[]) AND state = 'scheduled' RETURNING id, queue`,

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
    deleteFinished: `DELETE FROM ${s}.jobs_finished WHERE id IN (
        SELECT id FROM ${s}.jobs_finished WHERE state = $1 AND finished_at < $2 ORDER BY finished_at LIMIT $3)`,

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

    workerRegister: `INSERT INTO ${s}.workers (id, host, pid, started_at, heartbeat_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)
      ON CONFLICT (id) DO UPDATE SET heartbeat_at = $4, expires_at = $5`,
    workerHeartbeat: `UPDATE ${s}.workers SET heartbeat_at = $2, expires_at = $3 WHERE id = $1 RETURNING id`,
    workerUnregister: `DELETE FROM ${s}.workers WHERE id = $1`,
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

/** The advisory lock class of claims of queues with concurrency limits (pg_advisory_xact_lock(class, hashtext(queue))). */
const CLAIM_LOCK = 0x5f00_3000;

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
