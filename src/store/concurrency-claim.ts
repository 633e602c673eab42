/**
 * The SQL that picks the jobs a claim of a queue with per-key concurrency limits, group FIFO or
 * per-key rate limits may lease (see ClaimParams.concurrency and keyRate), shared by the drivers:
 * each gives its own parameters and expressions. The slots are the queue's active jobs
 * themselves, so what a claim counts is always what the statements that lease and settle left:
 * nothing else to keep in step. A key's tokens are its bucket's row, charged in the claim's
 * transaction.
 *
 * Two forms. Under group FIFO, one statement reads the queue's active, ready and scheduled jobs
 * (and the buckets of their keys, under per-key rate limits) and picks: a group's first waiting
 * job may be anywhere in the claim order (concurrencyPick). Otherwise, a statement reads the
 * queue's active jobs counted per key (as many as consumers hold) and a window of the first ready
 * jobs in claim order, from the claim's own index (windowedRead), and the store picks from it
 * (pickFromWindow), with the whole tokens of the window's keys read from their buckets under
 * per-key rate limits (key-rate-claim.ts): the jobs a claim takes are the first that fit in claim
 * order, and whether one fits depends only on the active jobs, its key's tokens and the jobs
 * before it, so a window that yields the claim's limit yields what a read of the whole backlog
 * would. A window that yields fewer (keys at their limits or out of tokens) is read again,
 * larger, until it yields enough or holds every ready job (nextWindow).
 *
 * Before either, a claim that cannot take any key to its limit (cannotBind: every limit is at
 * least the queue's active jobs plus the claim's size, and no group FIFO) is the plain claim of
 * the queue's order: a limit far above what runs costs the claim one count of the active jobs.
 * Never under per-key rate limits: a key out of tokens holds its jobs back whatever runs.
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

/**
 * Whether a claim of `limit` jobs under `rule` can be the plain claim: no group FIFO, and every
 * key's limit (the default and each named one) at least `active` (the queue's active jobs, counted
 * after the claims before it) plus `limit`, so no key can pass its limit whatever the claim takes.
 */
export function cannotBind(rule: ConcurrencyRule, active: number, limit: number): boolean {
  return !rule.groupFifo && active + limit <= smallestLimit(rule);
}

/** The smallest limit of any key under `rule` (the default and each named one); Infinity when none. */
export function smallestLimit(rule: ConcurrencyRule): number {
  let min = rule.limit ?? Infinity;
  for (const k in rule.limits) min = Math.min(min, rule.limits[k]!);
  return min;
}

/** How a driver spells the parts of a windowed read (per-key limits without group FIFO). */
export interface WindowDialect {
  /** The jobs table (schema-qualified), the queue parameter, a true value as the driver's booleans compare. */
  table: string;
  queue: string;
  yes: string;
  /** The window parameter: how many ready jobs, in claim order, the read returns at most. */
  window: string;
  /** Whether a row may be leased now (its state, its run time, its start deadline). */
  eligible: string;
  /** Index hints of the ready jobs in fifo order, in sort key order, and of a queue's jobs by state ('' for none). */
  byFifo: string;
  bySortKey: string;
  byState: string;
  /** Due jobs still `scheduled` that a claim may lease too (PostgreSQL: a claim leases them; null: none, they were promoted). */
  due: string | null;
}

/** The first window a claim of `limit` jobs reads: twice its limit, so a few held keys do not make it read again. */
export const WINDOW_FIRST_FACTOR = 2;
/** The smallest first window, so small claims still look past a few held keys at once. */
export const WINDOW_MIN = 32;
/** How much larger each further window is than the last. */
export const WINDOW_GROWTH = 8;

/** The largest window: the largest 32-bit integer, a LIMIT every driver takes (a backlog past it is read no further). */
export const WINDOW_MAX = 2 ** 31 - 1;

/** The first window of a claim of `limit` jobs. */
export function firstWindow(limit: number): number {
  return Math.max(WINDOW_MIN, limit * WINDOW_FIRST_FACTOR);
}

/**
 * The next window to read after one of `window` jobs that held `read` ready jobs and yielded
 * `picked` of the claim's `limit`, or null when the claim is done: it has its limit, or the
 * window held every ready job (then a read of the whole backlog would yield no more).
 */
export function nextWindow(window: number, read: number, picked: number, limit: number): number | null {
  if (picked >= limit || read < window || window >= WINDOW_MAX) return null;
  return Math.min(window * WINDOW_GROWTH, WINDOW_MAX);
}

/**
 * A query of a window of the queue's ready jobs in claim order (`id`, key `ck`, `ok` 1 when it
 * may be leased now), followed by the queue's active jobs counted per key (`id` NULL, `busy`):
 * what pickFromWindow needs. Each ready job is read from the claim's own index, so the cost is
 * the window, whatever the backlog; the active jobs are as many as consumers hold.
 */
export function windowedRead(d: WindowDialect, byKey: boolean): string {
  const order = claimOrder(byKey);
  const cols = `id, priority, run_at, sort_key, concurrency_key AS ck, CASE WHEN ${d.eligible} THEN 1 ELSE 0 END AS ok`;
  const ready = (hint: string, where: string, by: string, limit = d.window): string =>
    `SELECT * FROM (SELECT ${cols} FROM ${d.table}${hint} WHERE queue = ${d.queue} AND state = 'ready'${where} ORDER BY ${by} LIMIT ${limit}) r`;
  const due = d.due === null ? '' : ` UNION ALL SELECT * FROM (SELECT ${cols} FROM ${d.table} WHERE ${d.due} AND queue = ${d.queue} ORDER BY run_at LIMIT ${d.window}) s`;
  // By sort key, jobs without a key come after every keyed one: read them only when the keyed
  // ones do not fill the window (a LIMIT of 0 reads nothing).
  const sources = byKey
    ? `keyed AS (${ready(d.bySortKey, ' AND sort_key IS NOT NULL', 'sort_key, id')}),
    unkeyed AS (${ready(d.byFifo, ' AND sort_key IS NULL', claimOrder(false), `(CASE WHEN (SELECT count(*) FROM keyed) < ${d.window} THEN ${d.window} ELSE 0 END)`)}),
    cand AS (SELECT * FROM (SELECT * FROM keyed UNION ALL SELECT * FROM unkeyed${due}) c ORDER BY ${order} LIMIT ${d.window})`
    : `cand AS (SELECT * FROM (${ready(d.byFifo, '', claimOrder(false))}${due}) c ORDER BY ${order} LIMIT ${d.window})`;
  return `WITH ${sources}
    SELECT id, ck, ok, 0 AS busy, row_number() OVER (ORDER BY ${order}) AS rn FROM cand
    UNION ALL
    SELECT NULL, concurrency_key, 0, count(*), 0 FROM ${d.table}${d.byState}
    WHERE queue = ${d.queue} AND state = 'active' AND concurrency_key IS NOT NULL GROUP BY concurrency_key
    ORDER BY rn`;
}

/** A row of windowedRead: a ready job of the window (id set), or a key's count of active jobs (id null). */
export interface WindowRow {
  id: string | null;
  ck: string | null;
  ok: number | boolean;
  busy: number | string;
}

/**
 * The ids to lease from a window (windowedRead's rows), in claim order, and how many ready jobs
 * the window held: the eligible jobs that fit their key's limit once the key's active jobs and the
 * jobs of the key picked before them are counted, at most `limit`. A key at its limit is passed
 * over, never waited for. Under per-key rate limits, `tokens(key)` is the whole tokens of the
 * key's bucket (null: the key is not limited), and a key's jobs past them are passed over too:
 * `short` names the keys whose jobs were passed over only for lack of tokens before the claim had
 * its limit (what a claim that leased fewer than its limit reports the next token of).
 */
export function pickFromWindow(
  rows: readonly WindowRow[], rule: ConcurrencyRule, limit: number, tokens: ((key: string) => number | null) | null = null,
): { ids: string[]; read: number; short: Set<string> } {
  const held = new Map<string, number>();
  for (const r of rows) if (r.id === null && r.ck !== null) held.set(r.ck, Number(r.busy));
  const used = new Map<string, number>();
  const short = new Set<string>();
  const ids: string[] = [];
  let read = 0;
  for (const r of rows) {
    if (r.id === null) continue;
    read++;
    if (ids.length >= limit || !r.ok) continue;
    if (r.ck !== null) {
      const max = Object.hasOwn(rule.limits, r.ck) ? rule.limits[r.ck]! : rule.limit;
      const n = held.get(r.ck) ?? 0;
      if (max !== null && n >= max) continue;
      const t = tokens?.(r.ck) ?? null;
      const u = used.get(r.ck) ?? 0;
      if (t !== null && u >= t) {
        short.add(r.ck);
        continue;
      }
      held.set(r.ck, n + 1);
      used.set(r.ck, u + 1);
    }
    ids.push(r.id);
  }
  return { ids, read, short };
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
