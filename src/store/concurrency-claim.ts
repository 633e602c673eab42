/**
 * The SQL that picks the jobs a claim of a queue with per-key concurrency limits or group FIFO
 * may lease (see ClaimParams.concurrency), shared by the drivers: each gives its own parameters
 * and expressions. The slots are the queue's active jobs themselves, so what a claim counts is
 * always what the statements that lease and settle left: nothing else to keep in step.
 *
 * It reads the queue's active jobs and its ready ones (plus, under group FIFO, its scheduled
 * ones, which hold their group back): per claim, the queue's live jobs, not one index range.
 */

import { compareClaimOrder, type Job } from '../core/job.ts';
import type { ConcurrencyRule } from '../core/queue-config.ts';
import { nextAtSql, unitsSql } from './rate-bucket-sql.ts';

/** The rule of a claim that runs as a limited one for per-key rate limits alone: no concurrency limit, no group FIFO. */
export const NO_CONCURRENCY: ConcurrencyRule = { limit: null, limits: {}, groupFifo: false };

/** How a driver spells the parts of the pick. */
export interface ConcurrencyDialect {
  /** The jobs table (schema-qualified). */
  table: string;
  /** The queue parameter. */
  queue: string;
  /** The most jobs to pick. */
  limit: string;
  /** Parameter: the limit of a key not in the map (NULL: none). */
  defaultLimit: string;
  /** Parameter: 1 (true) under group FIFO. */
  groupFifo: string;
  /** Whether a row of `live` may be leased now (its state, its run time, its start deadline). */
  eligible: string;
  /** Which rows the candidates are read from, beside the queue (states). */
  states: string;
  /** The limit of the row's key `ck` from the map parameter (NULL when the map does not name it). */
  keyLimit: string;
  /** A true value and a false one, as the driver's booleans compare. */
  yes: string;
}

/** How a driver spells the per-key rate limits of a pick (ClaimParams.keyRate). */
export interface KeyRateDialect {
  /** The rate_limits table (schema-qualified). */
  table: string;
  /** The bucket name of the key `ck` (an expression): keyBucketName of rate-bucket.ts. */
  name(ck: string): string;
  /** The key `ck`'s bucket parameter from the rule parameter (its entry in `limits`, else `limit`); NULL when the key is not limited. */
  param(field: 'rate' | 'perMs' | 'burst', ck: string): string;
  /** The claim's time. */
  now: string;
  least: string;
  greatest: string;
}

/** The claim order: fifo, or by sort key with unkeyed jobs after the keyed ones in fifo order. */
export function claimOrder(byKey: boolean, t = ''): string {
  return byKey
    ? `(${t}sort_key IS NULL), ${t}sort_key, (CASE WHEN ${t}sort_key IS NULL THEN ${t}priority END) DESC, (CASE WHEN ${t}sort_key IS NULL THEN ${t}run_at END), ${t}id`
    : `${t}priority DESC, ${t}run_at, ${t}id`;
}

/**
 * A query of the ids to lease, in claim order: the eligible jobs that pass group FIFO (the
 * group's first waiting job by id, and none of the group active) and fit their key's limit
 * once the key's active jobs and the jobs of the key picked before them in claim order are
 * counted, so a batch never takes a key past its limit either; under per-key rate limits (`kr`),
 * likewise no more of a key's jobs than its bucket holds whole tokens.
 */
export function concurrencyPick(d: ConcurrencyDialect, byKey: boolean, kr: KeyRateDialect | null = null): string {
  return `${ranked(d, byKey, kr)}
    SELECT id, sort_key FROM ranked
    WHERE ok = 1 AND gok = 1 AND (lim IS NULL OR busy + pos <= lim)${kr ? ' AND (ktok IS NULL OR pos <= ktok)' : ''}
    ORDER BY ${claimOrder(byKey)} LIMIT ${d.limit}`;
}

/**
 * Under per-key rate limits, after a claim leased and charged: the earliest time a key whose
 * jobs would be leased now but for its tokens gets its next one (one row, NULL when no job
 * waits only for tokens). The same reading as the pick, so it holds back exactly what a
 * claim now would.
 */
export function keyRateHeld(d: ConcurrencyDialect, byKey: boolean, kr: KeyRateDialect): string {
  return `${ranked(d, byKey, kr)}
    SELECT min(knext) AS held FROM ranked
    WHERE ok = 1 AND gok = 1 AND (lim IS NULL OR busy + pos <= lim) AND ktok IS NOT NULL AND pos > ktok`;
}

/**
 * The CTEs both read: each live job with whether it may be leased now (ok), whether group FIFO
 * lets it (gok), its key's limit (lim), active jobs (busy), its place among its key's
 * candidates in claim order (pos), and under per-key rate limits its key's whole tokens (ktok,
 * NULL: not limited) and when the key's next token is due (knext). Keys without a bucket row
 * hold a full bucket.
 */
function ranked(d: ConcurrencyDialect, byKey: boolean, kr: KeyRateDialect | null): string {
  const order = claimOrder(byKey);
  const bucket = { row: 'b', rate: 'kp.kr', perMs: 'kp.kpm', burst: 'kp.kb', now: kr?.now ?? '', least: kr?.least ?? '', greatest: kr?.greatest ?? '' };
  const keyTokens = kr === null ? '' : `
    kp AS (
      SELECT ck, ${kr.param('rate', 'k.ck')} AS kr, ${kr.param('perMs', 'k.ck')} AS kpm, ${kr.param('burst', 'k.ck')} AS kb
      FROM (SELECT DISTINCT ck FROM live WHERE ck IS NOT NULL) k),
    kt0 AS (
      SELECT kp.ck AS kck, kp.kr, kp.kpm, kp.kb, b.name AS bn, b.updated_at, CASE WHEN b.name IS NULL THEN NULL ELSE ${unitsSql(bucket)} END AS u
      FROM kp LEFT JOIN ${kr.table} b ON b.name = ${kr.name('kp.ck')}),
    kt AS (
      SELECT kck, CASE WHEN kr IS NULL THEN NULL WHEN bn IS NULL THEN kb ELSE u / kpm END AS ktok,
        CASE WHEN kr IS NULL OR bn IS NULL THEN ${kr.now} ELSE ${nextAtSql({ ...bucket, row: 'kt0', rate: 'kr', perMs: 'kpm' }, 'u')} END AS knext
      FROM kt0),`;
  return `WITH live AS (
      SELECT id, state, priority, run_at, sort_key, concurrency_key AS ck, group_key AS gk,
        CASE WHEN ${d.eligible} THEN 1 ELSE 0 END AS ok
      FROM ${d.table} WHERE queue = ${d.queue} AND ${d.states}),${keyTokens}
    grouped AS (
      SELECT live.*, CASE WHEN ${d.groupFifo} = ${d.yes} AND gk IS NOT NULL THEN
          CASE WHEN sum(CASE WHEN state = 'active' THEN 1 ELSE 0 END) OVER (PARTITION BY gk) = 0
                AND row_number() OVER (PARTITION BY gk, (state = 'active') ORDER BY id) = 1 THEN 1 ELSE 0 END
        ELSE 1 END AS gok,
        CASE WHEN ck IS NULL THEN NULL ELSE coalesce(${d.keyLimit}, ${d.defaultLimit}) END AS lim
      FROM live),
    ranked AS (
      SELECT grouped.*,${kr ? ' kt.ktok, kt.knext,' : ''}
        sum(CASE WHEN state = 'active' THEN 1 ELSE 0 END) OVER (PARTITION BY ck) AS busy,
        sum(ok * gok) OVER (PARTITION BY ck ORDER BY ${order} ROWS UNBOUNDED PRECEDING) AS pos
      FROM grouped${kr ? ' LEFT JOIN kt ON kt.kck = grouped.ck' : ''})`;
}

/** The jobs a limited claim leased (with their sort keys), in claim order: what the statement's ORDER BY picked by. */
export function inClaimOrder(leased: { key: number | null; job: Job }[], byKey: boolean): Job[] {
  if (!byKey) return leased.map((l) => l.job).sort(compareClaimOrder);
  leased.sort((a, b) => {
    if (a.key !== null && b.key !== null) return a.key - b.key || (a.job.id < b.job.id ? -1 : a.job.id > b.job.id ? 1 : 0);
    if (a.key !== null || b.key !== null) return a.key === null ? 1 : -1;
    return compareClaimOrder(a.job, b.job);
  });
  return leased.map((l) => l.job);
}
