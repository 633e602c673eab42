/**
 * The insert statements of the PostgreSQL store (plain and keyed, fifo and fair), and the
 * idempotency keys' upkeep: part of the object pgStatements (statements.ts) returns.
 */

import { forced, notify } from './statement-parts.ts';

/** The token a claim (`token + 1`) gives a job never leased: a job leased by its own insert holds it (Store.insertLeaseToken). */
export const FIRST_LEASE_TOKEN = 1;

export function insertStatements(s: string) {
  /**
   * CTEs `ins` (the new jobs, taken from `from`, a row source with the insert's columns), `qs`
   * (the row of each queue that has none yet, inserted in name order, so two inserts that both
   * create queues cannot deadlock) and `n` (a notification per queue with ready jobs, on $13).
   * A row with a lease (`lease_until`, `lease_worker`: NewJobRow.lease) is stored active, as a
   * claim right after the insert would leave a new job: attempt 1, FIRST_LEASE_TOKEN.
   */
  const insertJobs = (source: string, where: string, fair: boolean, unique = false) => `${fair ? `${fairTags(source, where)},` : ''}
      ins AS (
        INSERT INTO ${s}.jobs (id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, timeout_ms, trace, group_key, expire_at, created_at, updated_at, cost, concurrency_key, requires,
          attempt, token, lease_expires_at, started_at, worker_id, sort_key${unique ? ', unique_key, unique_until' : ''})
        SELECT id, queue, name, payload::jsonb, priority, CASE WHEN lease_until IS NULL THEN state ELSE 'active' END, run_at, max_attempts, max_stalls, timeout_ms, trace::jsonb, group_key, expire_at, created_at, created_at, cost, concurrency_key, requires,
          CASE WHEN lease_until IS NULL THEN 0 ELSE 1 END, CASE WHEN lease_until IS NULL THEN 0 ELSE ${FIRST_LEASE_TOKEN} END, lease_until, CASE WHEN lease_until IS NULL THEN NULL ELSE created_at END, lease_worker,
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
  const unnestRows = `unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int8[], $8::int[], $9::int[], $10::int8[], $11::int[], $12::text[], $14::text[], $15::int8[], $16::float8[], $17::text[], $18::float8[], $19::text[], $20::text[], $21::int8[], $22::uuid[])`;
  const rowColumns = 'id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, created_at, timeout_ms, trace, group_key, expire_at, cost, policy, w, concurrency_key, requires, lease_until, lease_worker';
  const plainInsert = (fair: boolean) => `WITH ${insertJobs(`${unnestRows} WITH ORDINALITY AS t(${rowColumns}, n)`, '', fair)}
      SELECT 1 WHERE ${forced}`;
  /**
   * A publish (routing.ts): the plain insert, in one statement, only if the routing version is
   * still $23, read FOR SHARE so a bind or unbind waits for the statement and one committed before
   * it is seen (the newest version of a locked row); $24 publishes that matched nothing are counted
   * with it. Returns the version read: another than $23 means nothing was written (stale).
   */
  const publishInsert = (fair: boolean) => `WITH rv AS (SELECT version FROM ${s}.topic_routing WHERE id = 1 FOR SHARE),
      ${insertJobs(`${unnestRows} WITH ORDINALITY AS t(${rowColumns}, n)`, 'WHERE (SELECT version FROM rv) = $23::int8', fair)},
      uc AS (UPDATE ${s}.topic_unrouted SET count = count + $24::int8 WHERE id = 1 AND $24::int8 > 0 AND (SELECT version FROM rv) = $23::int8 RETURNING 1)
      SELECT (SELECT version FROM rv) AS version, (SELECT count(*) FROM uc) AS counted WHERE ${forced}`;
  const keyedInsert = (fair: boolean) => `WITH t AS (
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int8[], $8::int[], $9::int[], $10::int8[], $11::int[], $12::text[], $14::text[], $15::int8[], $16::float8[], $17::text[], $18::float8[], $19::text[], $20::text[], $21::int8[], $22::uuid[], $23::text[], $24::int8[], $26::text[], $27::int8[])
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
                                  FROM (SELECT coalesce(excluded.created_at - $25::int8,
                                    (SELECT f.since FROM t f WHERE f.queue = excluded.queue AND f.key = excluded.key ORDER BY f.n LIMIT 1)) AS since) w)
        RETURNING p.queue, p.key, p.job_id),
      ${insertJobs('t', 'WHERE (t.key IS NULL OR t.id IN (SELECT job_id FROM k)) AND t.n NOT IN (SELECT n FROM h)', fair, true)}
      SELECT queue, key, job_id::text AS job_id, NULL::int8 AS n FROM k WHERE job_id NOT IN (SELECT id FROM t) AND ${forced}
      UNION ALL SELECT NULL, NULL, holder::text, n FROM h`;

  return {
    // The jobs, and the row of each queue that has none yet (config '{}': every setting at its
    // default), in one statement: a refused insert leaves no queue behind. New queues are
    // inserted in name order, so two inserts that both create queues cannot deadlock.
    insert: plainInsert(false),
    // The same, for rows of a queue with policy fair: their tags are issued by the same statement.
    insertFair: plainInsert(true),

    // An insert whose rows carry idempotency keys, in one statement (so one round trip, atomic
    // without a transaction of its own): the insert above, plus $19 the rows' concurrency keys, $20 their required tags, $21 and $22 their leases (NewJobRow.lease), $23 the keys (NULL: none) and
    // $24 since (a held key recorded before it is past the window); $25, when every keyed row has
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
    // Unique keys ($26, NULL: none; $27 their windows' ends) ride on the same statement: `h` finds
    // the live job holding each row's key (index jobs_unique), else a finished one whose window
    // holds it past the row's created_at (jobs_finished_unique: a job keeps its key in
    // jobs_finished only while its window is open when it finishes), unless the row's
    // idempotency key is held (a replay wins);
    // such a row is neither stored nor given an idempotency key, and comes back as (NULL, NULL,
    // holder, its ordinal n). A holder committed after the statement's snapshot is not seen: the
    // insert then fails on jobs_unique (waiting for the other add to commit first), and the
    // caller runs the statement again (publish-keys.ts), which sees it. One batch never carries
    // one unique key twice (the caller keeps the first row).
    publish: publishInsert(false),
    publishFair: publishInsert(true),
    insertKeyed: keyedInsert(false),
    insertKeyedFair: keyedInsert(true),
    publishKeysDeleteQueue: `DELETE FROM ${s}.publish_keys WHERE queue = $1`,
    publishKeysDelete: `DELETE FROM ${s}.publish_keys WHERE ctid IN (SELECT ctid FROM ${s}.publish_keys WHERE created_at < $1 LIMIT $2)`,
  };
}
