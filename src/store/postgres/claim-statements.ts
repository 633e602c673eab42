/**
 * The claim statements of the PostgreSQL store, and the run time estimates of policy sjf:
 * part of the object pgStatements (statements.ts) returns.
 */

import { EXPIRED_ERROR } from '../../core/job.ts';
import { concurrencyPick, keyRateHeld, windowedRead, type ConcurrencyDialect, type KeyRateDialect } from '../concurrency-claim.ts';
import { unitsSql } from '../rate-bucket-sql.ts';
import { CLAIM_LOCK } from './migrations-claims.ts';
import { finishOf, jobColumns, PAST_DEADLINE } from './statement-parts.ts';

/** The limited pick's parameters: the queue, now (always $2: PAST_DEADLINE names it), the limit, the rule's, and the worker's tags. */
const limitedDialect = (s: string, n: { limit: string; defaultLimit: string; limits: string; groupFifo: string; tags: string }): ConcurrencyDialect => ({
  table: `${s}.jobs`, queue: '$1', limit: n.limit, defaultLimit: `${n.defaultLimit}::int`, groupFifo: `${n.groupFifo}::boolean`, yes: 'true',
  states: `state IN ('ready', 'active', 'scheduled') AND (state <> 'scheduled' OR ${n.groupFifo}::boolean OR run_at <= $2)`,
  eligible: `(state = 'ready' OR (state = 'scheduled' AND run_at <= $2)) AND NOT (${PAST_DEADLINE}) AND ${covered(n.tags)}`,
  keyLimit: `(${n.limits}::jsonb ->> ck)::int`,
});

/** Per-key rate limits, the rule (KeyRateRule as JSON) in parameter `rule`; bucket names as keyBucketName. */
const keyRateDialect = (s: string, rule: string): KeyRateDialect => ({
  table: `${s}.rate_limits`,
  name: (ck) => `'key:' || $1 || '/' || ${ck}`,
  param: (field, ck) => `coalesce((${rule}::jsonb -> 'limits' -> ${ck} ->> '${field}')::bigint, (${rule}::jsonb -> 'limit' ->> '${field}')::bigint)`,
  now: '$2::bigint', least: 'LEAST', greatest: 'GREATEST',
});

/**
 * A claim statement under a queue's rate limit, in one statement: `bk` locks the bucket's row
 * (FOR UPDATE: claims on one bucket take turns, and one that waited reads the row the other
 * left) and reads its units at now; `tk` is how many jobs may start (the claim's limit, at most
 * the whole tokens). The picks keep their `LIMIT $3`, which the planner knows (a limit it cannot
 * see would make it plan for thousands of rows: a scan of the whole table to join them); GATE
 * reads nothing when there is no token, and RATED_PICK leases only the first `tk` of the jobs
 * picked, in claim order. The lease becomes CTE `leased`, and `ch` takes one token per job
 * leased. A row per job leased (or one with NULL job columns when none was) with the bucket
 * after it; no row at all when the bucket has no row yet (the store makes it and runs the claim
 * again). Rate parameters after the claim's ($1–$5, and $6 the worker's tags): $7 name · $8 rate ·
 * $9 perMs · $10 burst.
 */
const ratedHead = (s: string) => `WITH bk AS (SELECT b.name, ${unitsSql({ row: 'b', rate: '$8::bigint', perMs: '$9::bigint', burst: '$10::bigint', now: '$2::bigint', least: 'LEAST', greatest: 'GREATEST' })} AS u
        FROM ${s}.rate_limits b WHERE b.name = $7 FOR UPDATE),
      tk AS (SELECT coalesce(max(LEAST($3::bigint, u / $9::bigint)), 0) AS n FROM bk),
      `;
const GATE = ' AND (SELECT n FROM tk) > 0';
const RATED_PICK = ' AND picked.rn <= (SELECT n FROM tk)';
const ratedTail = (s: string) => `,
      ch AS (UPDATE ${s}.rate_limits b SET units = bk.u - (SELECT count(*) FROM leased) * $9::bigint,
          updated_at = GREATEST(b.updated_at, $2::bigint), rate = $8::bigint, per_ms = $9::bigint, burst = $10::bigint
        FROM bk WHERE b.name = bk.name RETURNING b.units, b.updated_at)
    SELECT leased.*, ch.units AS rl_units, ch.updated_at AS rl_updated_at FROM ch LEFT JOIN leased ON true`;

/**
 * The plain claim and the claim by sort key come in three kinds: `plain`; `gated`, the plain
 * claim of a queue with per-key limits that cannot bind, one statement outside any transaction
 * of the store's ($7 the smallest limit of its keys, $8 the claim lock's name: it leases nothing
 * unless the queue's active jobs, counted under the queue's claim lock, plus the claim's $3 are
 * within it; see claim_gate in migrations-claims.ts); and `rated`, under a queue's rate limit
 * (ratedHead above, $7–$10).
 */
type PlainKind = 'plain' | 'gated' | 'rated';

export function claimStatements(s: string) {
  const finish = finishOf(s);
  const limited = limitedDialect(s, { limit: '$3', defaultLimit: '$6', limits: '$7', groupFifo: '$8', tags: '$9' });
  const heldDialect = limitedDialect(s, { limit: 'NULL', defaultLimit: '$3', limits: '$4', groupFifo: '$5', tags: '$6' });
  const limitedClaim = (byKey: boolean, keyRate: boolean) => `WITH x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      picked AS (${concurrencyPick(limited, byKey, keyRate ? keyRateDialect(s, '$10') : null)})
      UPDATE ${s}.jobs j SET state = 'active', attempt = j.attempt + 1, token = j.token + 1, lease_expires_at = $4,
        started_at = $2, updated_at = $2, worker_id = $5::uuid
      FROM picked WHERE j.id = picked.id AND j.state IN ('ready', 'scheduled')
      RETURNING ${jobColumns('j.')}, picked.sort_key`;

  // Per-key limits without group FIFO: expired jobs move to dead as below (at most $3), then the read of a
  // window of $4 ready jobs and due scheduled ones whose required tags the worker's ($5) cover, and of the active jobs per key (see concurrency-claim.ts).
  const windowRead = (byKey: boolean) => `WITH x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      w AS (${windowedRead({
        table: `${s}.jobs`, queue: '$1', yes: 'true', window: '$4::int',
        eligible: `(state = 'ready' OR (state = 'scheduled' AND run_at <= $2)) AND NOT (${PAST_DEADLINE}) AND ${covered('$5')}`,
        byFifo: '', bySortKey: '', byState: '', due: `state = 'scheduled' AND run_at <= $2`,
      }, byKey)})
      SELECT * FROM w ORDER BY rn`;

  // The claims below ($6 the worker's tags: only jobs whose required tags they cover), of a kind (PlainKind above):
  // `cond` is added to the choice of ready and due jobs (the guard, or the rate limit's gate).
  const cond = (kind: PlainKind): string => (kind === 'gated' ? NO_KEY_AT_LIMIT : kind === 'rated' ? GATE : '');
  const plainClaim = (kind: PlainKind) => `${head(kind)}x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      r AS (
        SELECT id, priority, run_at FROM ${s}.jobs WHERE queue = $1 AND state = 'ready' AND NOT (${PAST_DEADLINE}) AND ${covered('$6')}${cond(kind)}
        ORDER BY priority DESC, run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED),
      d AS (
        SELECT id, priority, run_at FROM ${s}.jobs WHERE state = 'scheduled' AND run_at <= $2 AND queue = $1 AND NOT (${PAST_DEADLINE}) AND ${covered('$6')}${cond(kind)}
        ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      picked AS (SELECT id${kind === 'rated' ? ', row_number() OVER (ORDER BY priority DESC, run_at, id) AS rn' : ''}
        FROM (SELECT * FROM r UNION ALL SELECT * FROM d) c ORDER BY priority DESC, run_at, id LIMIT $3)
      ${kind === 'rated' ? ', leased AS (' : ''}UPDATE ${s}.jobs j SET state = 'active', attempt = j.attempt + 1, token = j.token + 1, lease_expires_at = $4,
        started_at = $2, updated_at = $2, worker_id = $5::uuid
      FROM picked WHERE j.id = picked.id${kind === 'rated' ? RATED_PICK : ''}
      RETURNING ${jobColumns('j.')}${kind === 'rated' ? `)${ratedTail(s)}` : ''}`;
  const byKeyClaim = (kind: PlainKind) => `${head(kind)}x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      r AS (
        SELECT id, sort_key FROM ${s}.jobs WHERE queue = $1 AND state = 'ready' AND sort_key IS NOT NULL AND NOT (${PAST_DEADLINE}) AND ${covered('$6')}${cond(kind)}
        ORDER BY sort_key, id LIMIT $3 FOR UPDATE SKIP LOCKED),
      d AS (
        SELECT id, sort_key FROM ${s}.jobs WHERE state = 'scheduled' AND run_at <= $2 AND queue = $1 AND sort_key IS NOT NULL AND NOT (${PAST_DEADLINE}) AND ${covered('$6')}${cond(kind)}
        ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      picked AS (SELECT id, sort_key${kind === 'rated' ? ', row_number() OVER (ORDER BY sort_key, id) AS rn' : ''}
        FROM (SELECT * FROM r UNION ALL SELECT * FROM d) c ORDER BY sort_key, id LIMIT $3)
      ${kind === 'rated' ? ', leased AS (' : ''}UPDATE ${s}.jobs j SET state = 'active', attempt = j.attempt + 1, token = j.token + 1, lease_expires_at = $4,
        started_at = $2, updated_at = $2, worker_id = $5::uuid
      FROM picked WHERE j.id = picked.id${kind === 'rated' ? RATED_PICK : ''}
      RETURNING ${jobColumns('j.')}, picked.sort_key${kind === 'rated' ? `)${ratedTail(s)}` : ''}`;
  // Per-key limits that cannot bind ($7: the smallest limit of the queue's keys, $8 the claim lock's name): the gate
  // takes the queue's claim lock and counts its active jobs after it; the claim leases nothing unless they and the
  // claim's $3 are within $7, so it passes no key's limit. One CTE for both picks, evaluated once, before either locks
  // a row (a condition without columns filters the scan before it starts); never when no job is ready or due.
  const NO_KEY_AT_LIMIT = ' AND (SELECT ok FROM g)';
  const gatedHead = `WITH g AS MATERIALIZED (SELECT ${s}.claim_gate($8::text, $1::text, $3::int, $7::int) AS ok),
      `;
  const head = (kind: PlainKind): string => (kind === 'rated' ? ratedHead(s) : kind === 'gated' ? gatedHead : 'WITH ');

  return {
    // Ready jobs in claim order, plus scheduled jobs that are due (so a delay is honoured even between
    // maintenance ticks); rows another claimer holds are skipped, never waited for. Jobs past their
    // start deadline are never leased: up to $3 of the queue's (found by jobs_expiring, so a queue
    // without deadlines costs one empty seek) move to dead in this statement, and the rest are passed over.
    // $1 queue · $2 now · $3 limit · $4 lease end · $5 worker · $6 the worker's tags.
    claim: plainClaim('plain'),
    // The same under a rate limit (ClaimParams.rate; see ratedHead above: $7 name · $8 rate · $9 perMs · $10 burst).
    claimRated: plainClaim('rated'),
    // The claim of a queue whose policy is not fifo: as above, by sort key (see NewJobRow.order); the
    // rows' keys come back too, so the store can give the jobs in that order.
    claimByKey: byKeyClaim('plain'),
    claimByKeyRated: byKeyClaim('rated'),
    // The claim of a queue with per-key concurrency limits or group FIFO (ClaimParams.concurrency), fifo
    // order and by sort key: run after the queue's claim lock (claimLock), so the active jobs it counts
    // are every claim's that committed. $6 the limit of a key not named (NULL: none) · $7 the limits of
    // the keys named (JSON) · $8 group FIFO · $9 the worker's tags. Expired jobs move to dead as in claim; they are never picked.
    claimLimited: limitedClaim(false, false),
    claimLimitedByKey: limitedClaim(true, false),
    // The same under per-key rate limits ($10 the rule, ClaimParams.keyRate, as JSON); then, when the claim
    // leased fewer than asked, when the next token of a key whose jobs wait only for tokens is due:
    // $1 queue · $2 now · $3 the limit of a key not named · $4 the limits named · $5 group FIFO · $6 the worker's tags · $7 the rule.
    claimKeyRate: limitedClaim(false, true),
    claimKeyRateByKey: limitedClaim(true, true),
    keyRateHeld: keyRateHeld(heldDialect, false, keyRateDialect(s, '$7')),
    keyRateHeldByKey: keyRateHeld(heldDialect, true, keyRateDialect(s, '$7')),
    // The buckets of the keys a claim leased jobs of, one token per job: $1 names · $2 now · $3 jobs · $4 rate ·
    // $5 perMs · $6 burst (arrays but now). A key without a row had a full bucket.
    keyRateCharge: `INSERT INTO ${s}.rate_limits AS b (name, units, updated_at, rate, per_ms, burst)
      SELECT name, (burst - n) * per_ms, $2::bigint, rate, per_ms, burst
      FROM unnest($1::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) AS t(name, n, rate, per_ms, burst)
      ON CONFLICT (name) DO UPDATE SET
        units = ${unitsSql({ row: 'b', rate: 'excluded.rate', perMs: 'excluded.per_ms', burst: 'excluded.burst', now: '$2::bigint', least: 'LEAST', greatest: 'GREATEST' })}
          - (excluded.burst * excluded.per_ms - excluded.units),
        updated_at = GREATEST(b.updated_at, $2::bigint), rate = excluded.rate, per_ms = excluded.per_ms, burst = excluded.burst`,
    // The buckets of the keys of a windowed pick under per-key rate limits ($1 names), read under the claim lock.
    keyBuckets: `SELECT name, units, updated_at, rate, per_ms, burst FROM ${s}.rate_limits WHERE name = ANY($1::text[])`,
    // Per-key limits (and per-key rate limits) without group FIFO: the plain claims gated by $7 and $8 (they lease
    // nothing when a key could reach its limit), and the read of a window ($4 jobs, $5 the worker's tags; see windowRead above).
    claimGated: plainClaim('gated'),
    claimByKeyGated: byKeyClaim('gated'),
    claimWindow: windowRead(false),
    claimWindowByKey: windowRead(true),
    // The lease of the jobs a windowed pick chose ($1 the ids · $2 now · $3 lease end · $4 worker), in the pick's transaction.
    claimIds: `UPDATE ${s}.jobs j SET state = 'active', attempt = j.attempt + 1, token = j.token + 1, lease_expires_at = $3,
        started_at = $2, updated_at = $2, worker_id = $4::uuid
      WHERE j.id = ANY($1::uuid[]) AND j.state IN ('ready', 'scheduled')
      RETURNING ${jobColumns('j.')}, j.sort_key`,
    // Serializes the limited claims of a queue ($1, schema-qualified) to the end of the transaction.
    claimLock: `SELECT pg_advisory_xact_lock(${CLAIM_LOCK}, hashtext($1)) IS NULL AS waited`,
    // Policy sjf: the run times of applied acks folded into their names' estimates, per (queue, name) as their mean
    // ($1 queues · $2 names · $3 run times · $4 the weight of a new sample in percent), in key order. An estimate
    // is a hint, so its commit does not wait for the WAL flush (synchronous_commit off for this transaction alone):
    // the acks it follows were flushed by their own statement, and the ack batch does not pay a second flush.
    estimatesLearn: `WITH t AS (
        SELECT queue, name, avg(run_ms) AS m, count(*) AS c, max(pct) AS pct
        FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[]) AS t(queue, name, run_ms, pct) GROUP BY queue, name)
      INSERT INTO ${s}.run_estimates AS e (queue, name, mean_ms, samples)
        SELECT queue, name, m, c FROM t WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL ORDER BY queue, name
      ON CONFLICT (queue, name) DO UPDATE SET samples = e.samples + excluded.samples,
        mean_ms = e.mean_ms + (excluded.mean_ms - e.mean_ms) * (SELECT t.pct FROM t WHERE t.queue = excluded.queue AND t.name = excluded.name) / 100.0`,
    estimateGet: `SELECT mean_ms FROM ${s}.run_estimates WHERE queue = $1 AND name = $2`,
    estimatesDeleteQueue: `DELETE FROM ${s}.run_estimates WHERE queue = $1`,
  };
}

/**
 * Whether the claiming worker's tags (`tags`: a text[] parameter) cover the row's `requires`
 * (tags joined by commas; NULL: none, and nothing more is computed). Rows it fails are passed
 * over in claim order, never locked (the filter is applied before FOR UPDATE locks a row).
 */
const covered = (tags: string): string => `(requires IS NULL OR string_to_array(requires, ',') <@ ${tags}::text[])`;

