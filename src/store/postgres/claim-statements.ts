/**
 * The claim statements of the PostgreSQL store, and the run time estimates of policy sjf:
 * part of the object pgStatements (statements.ts) returns.
 */

import { EXPIRED_ERROR } from '../../core/job.ts';
import { concurrencyPick, windowedRead } from '../concurrency-claim.ts';
import { finishOf, jobColumns, PAST_DEADLINE } from './statement-parts.ts';

export function claimStatements(s: string) {
  const finish = finishOf(s);
  const limitedClaim = (byKey: boolean) => `WITH x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      picked AS (${concurrencyPick({
        table: `${s}.jobs`, queue: '$1', limit: '$3', defaultLimit: '$6::int', groupFifo: '$8::boolean', yes: 'true',
        states: `state IN ('ready', 'active', 'scheduled') AND (state <> 'scheduled' OR $8::boolean OR run_at <= $2)`,
        eligible: `(state = 'ready' OR (state = 'scheduled' AND run_at <= $2)) AND NOT (${PAST_DEADLINE}) AND ${covered('$9')}`,
        keyLimit: `($7::jsonb ->> ck)::int`,
      }, byKey)})
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

  // The claims below ($6 the worker's tags: only jobs whose required tags they cover), with `guard` added to the choice of ready and due jobs: '' for none, or NO_KEY_AT_LIMIT.
  const plainClaim = (guard: string) => `WITH x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      r AS (
        SELECT id, priority, run_at FROM ${s}.jobs WHERE queue = $1 AND state = 'ready' AND NOT (${PAST_DEADLINE}) AND ${covered('$6')}${guard}
        ORDER BY priority DESC, run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED),
      d AS (
        SELECT id, priority, run_at FROM ${s}.jobs WHERE state = 'scheduled' AND run_at <= $2 AND queue = $1 AND NOT (${PAST_DEADLINE}) AND ${covered('$6')}${guard}
        ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      picked AS (SELECT id FROM (SELECT * FROM r UNION ALL SELECT * FROM d) c ORDER BY priority DESC, run_at, id LIMIT $3)
      UPDATE ${s}.jobs j SET state = 'active', attempt = j.attempt + 1, token = j.token + 1, lease_expires_at = $4,
        started_at = $2, updated_at = $2, worker_id = $5::uuid
      FROM picked WHERE j.id = picked.id
      RETURNING ${jobColumns('j.')}`;
  const byKeyClaim = (guard: string) => `WITH x AS (
        SELECT id FROM ${s}.jobs WHERE queue = $1 AND ${PAST_DEADLINE} ORDER BY expire_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      moved AS (DELETE FROM ${s}.jobs WHERE id IN (SELECT id FROM x) RETURNING *),
      dead AS (${finish('dead', '$2', 'history', `'${EXPIRED_ERROR}'`, 'NULL::jsonb', "'expired'")} RETURNING id),
      r AS (
        SELECT id, sort_key FROM ${s}.jobs WHERE queue = $1 AND state = 'ready' AND sort_key IS NOT NULL AND NOT (${PAST_DEADLINE}) AND ${covered('$6')}${guard}
        ORDER BY sort_key, id LIMIT $3 FOR UPDATE SKIP LOCKED),
      d AS (
        SELECT id, sort_key FROM ${s}.jobs WHERE state = 'scheduled' AND run_at <= $2 AND queue = $1 AND sort_key IS NOT NULL AND NOT (${PAST_DEADLINE}) AND ${covered('$6')}${guard}
        ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      picked AS (SELECT id, sort_key FROM (SELECT * FROM r UNION ALL SELECT * FROM d) c ORDER BY sort_key, id LIMIT $3)
      UPDATE ${s}.jobs j SET state = 'active', attempt = j.attempt + 1, token = j.token + 1, lease_expires_at = $4,
        started_at = $2, updated_at = $2, worker_id = $5::uuid
      FROM picked WHERE j.id = picked.id
      RETURNING ${jobColumns('j.')}, picked.sort_key`;
  // Per-key limits that cannot bind ($7: the smallest limit of the queue's keys): the queue's active jobs, counted
  // after the claim lock, plus the claim's $3 within it, so the plain claim passes no key's limit. Else it leases nothing.
  const NO_KEY_AT_LIMIT = ` AND (SELECT count(*) FROM ${s}.jobs WHERE queue = $1 AND state = 'active') + $3 <= $7::int`;

  return {
    // Ready jobs in claim order, plus scheduled jobs that are due (so a delay is honoured even between
    // maintenance ticks); rows another claimer holds are skipped, never waited for. Jobs past their
    // start deadline are never leased: up to $3 of the queue's (found by jobs_expiring, so a queue
    // without deadlines costs one empty seek) move to dead in this statement, and the rest are passed over.
    claim: plainClaim(''),
    // The claim of a queue whose policy is not fifo: as above, by sort key (see NewJobRow.order); the
    // rows' keys come back too, so the store can give the jobs in that order.
    claimByKey: byKeyClaim(''),
    // The claim of a queue with per-key concurrency limits or group FIFO (ClaimParams.concurrency), fifo
    // order and by sort key: run after the queue's claim lock (claimLock), so the active jobs it counts
    // are every claim's that committed. $6 the limit of a key not named (NULL: none) · $7 the limits of
    // the keys named (JSON) · $8 group FIFO · $9 the worker's tags. Expired jobs move to dead as in claim; they are never picked.
    claimLimited: limitedClaim(false),
    claimLimitedByKey: limitedClaim(true),
    claimGuarded: plainClaim(NO_KEY_AT_LIMIT),
    claimByKeyGuarded: byKeyClaim(NO_KEY_AT_LIMIT),
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

/** The advisory lock class of claims of queues with concurrency limits (pg_advisory_xact_lock(class, hashtext(queue))). */
const CLAIM_LOCK = 0x5f00_3000;
