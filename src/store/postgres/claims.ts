import { compareClaimOrder, type Job } from '../../core/job.ts';
import type { ConcurrencyRule } from '../../core/queue-config.ts';
import { firstWindow, inClaimOrder, nextWindow, NO_CONCURRENCY, pickFromWindow, smallestLimit, type WindowRow } from '../concurrency-claim.ts';
import { KeyTokens } from '../key-rate-claim.ts';
import { fullBucket, keyBucketName, keyRateOf, nextTokenAt, take, type KeyRateRule, type RateBucket, type RateBucketRow } from '../rate-bucket.ts';
import type { ClaimedJobs, ClaimParams, Store } from '../store.ts';
import type { PgContext } from './cluster.ts';
import type { Executor, TxExecutor } from './pg-client.ts';
import { pgRowToJob, type PgJobRow } from './rows.ts';

/**
 * Claims of the PostgreSQL store (its jobsClaim delegates here): fifo, by sort key, under per-key
 * limits, group FIFO or per-key rate limits, and under a queue's rate limit, whose tokens each
 * claim takes in its own transaction. Every one leases only jobs whose required resource tags the
 * worker's cover (ClaimParams.tags).
 */

export async function jobsClaim(ctx: PgContext<Store>, p: ClaimParams): Promise<ClaimedJobs> {
  if (p.concurrency || p.keyRate) return claimLimited(ctx, p, p.concurrency ?? NO_CONCURRENCY);
  if (p.byKey) return claimByKey(ctx, p);
  if (p.rate) {
    const { rows, heldUntil } = await claimRated(ctx, p, p.rate, ctx.q.claimRated);
    return held(rows.map(pgRowToJob).sort(compareClaimOrder), heldUntil);
  }
  const rows = await ctx.run(
    () => ctx.db.q(ctx.q.claim, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, p.tags ?? []]),
    `claim from ${p.queue}`,
  );
  return (rows as unknown as PgJobRow[]).map(pgRowToJob).sort(compareClaimOrder);
}

const held = (jobs: Job[], heldUntil: number | null): ClaimedJobs => (heldUntil === null ? jobs : Object.assign(jobs, { heldUntil }));

type RatedRow = PgJobRow & { rl_units: number; rl_updated_at: number };

/**
 * A claim under a queue's rate limit: one statement that takes the bucket's tokens with the
 * lease (see `ratedHead` in claim-statements.ts). A bucket without a row yet is made, full (of
 * concurrent first claims, one inserts), and the claim runs again.
 */
async function claimRated<R extends PgJobRow>(ctx: PgContext<Store>, p: ClaimParams, b: RateBucket, statement: string): Promise<{ rows: R[]; heldUntil: number | null }> {
  const args = [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, p.tags ?? [], b.name, b.rate, b.perMs, b.burst];
  let rows = (await ctx.run(() => ctx.db.q(statement, args), `claim from ${p.queue}`)) as unknown as (R & RatedRow)[];
  if (rows.length === 0) {
    await ctx.run(() => ensureBucket(ctx, b, p.now), `make rate limit ${b.name}`);
    rows = (await ctx.run(() => ctx.db.q(statement, args), `claim from ${p.queue}`)) as unknown as (R & RatedRow)[];
  }
  const after = rows[0]!;
  const leased = rows.filter((r) => r.id !== null).map(({ rl_units: _u, rl_updated_at: _a, ...row }) => row as unknown as R);
  const row = { units: Number(after.rl_units), updatedAt: Number(after.rl_updated_at), rate: b.rate, perMs: b.perMs, burst: b.burst };
  const admitted = Math.min(p.limit, Math.floor(row.units / b.perMs) + leased.length);
  // The bucket held jobs back: it had fewer tokens than asked and the claim used them all.
  return { rows: leased, heldUntil: admitted < p.limit && leased.length === admitted ? nextTokenAt(row, p.now) : null };
}

async function ensureBucket(ctx: PgContext<Store> | { db: TxExecutor; schema: string }, b: RateBucket, now: number): Promise<void> {
  const full = fullBucket(b, now);
  await ctx.db.q(
    `INSERT INTO ${ctx.schema}.rate_limits (name, units, updated_at, rate, per_ms, burst) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`,
    [b.name, full.units, full.updatedAt, full.rate, full.perMs, full.burst],
  );
}

/**
 * A queue that is not fifo: jobs by sort key, then, when those run out, any without a key (added
 * by a process that had not yet seen the policy) by the fifo claim (under a rate limit, each
 * statement takes its own tokens).
 */
async function claimByKey(ctx: PgContext<Store>, p: ClaimParams): Promise<ClaimedJobs> {
  let rows: (PgJobRow & { sort_key: number })[];
  let heldUntil: number | null = null;
  if (p.rate) {
    ({ rows, heldUntil } = await claimRated<PgJobRow & { sort_key: number }>(ctx, p, p.rate, ctx.q.claimByKeyRated));
  } else {
    rows = (await ctx.run(
      () => ctx.db.q(ctx.q.claimByKey, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, p.tags ?? []]),
      `claim from ${p.queue}`,
    )) as unknown as (PgJobRow & { sort_key: number })[];
  }
  rows.sort((a, b) => a.sort_key - b.sort_key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const jobs = rows.map(({ sort_key: _, ...row }) => pgRowToJob(row));
  if (jobs.length < p.limit && heldUntil === null) {
    const rest = await jobsClaim(ctx, { ...p, limit: p.limit - jobs.length, byKey: false });
    jobs.push(...rest);
    heldUntil = rest.heldUntil ?? null;
  }
  return held(jobs, heldUntil);
}

/** The largest int parameter: a limit of none. */
const INT_MAX = 2 ** 31 - 1;

type LimitedRow = PgJobRow & { sort_key: number | null };

/**
 * A queue with per-key limits, group FIFO or per-key rate limits: its claims take turns on the
 * queue's advisory lock, so each one's pick counts the active jobs every earlier claim leased and
 * the key tokens it took (they committed before the lock was free), and no two claims together
 * pass a key's limit or spend a key's token twice. A queue rate limit is read and charged in the
 * same transaction, its row locked (FOR UPDATE) from the read to the commit. Under group FIFO one
 * statement reads the queue's live jobs (and its keys' buckets) and leases what fits; otherwise
 * the pick reads a window of the ready jobs in claim order (read again larger while keys at their
 * limits or out of tokens leave it short: see concurrency-claim.ts), then the lease of what it
 * picked, in the same transaction.
 */
async function claimLimited(ctx: PgContext<Store>, p: ClaimParams, rule: ConcurrencyRule): Promise<ClaimedJobs> {
  // Per-key limits alone, that cannot bind: the gated plain claim, one statement (see claimGated).
  const gated = !rule.groupFifo && !p.keyRate && !p.rate;
  if (gated) {
    const rows = await ctx.run(() => claimGated(ctx, ctx.db, p, rule), `claim from ${p.queue}`);
    if (rows.length > 0) return limitedJobs(rows, p);
  }
  return ctx.run(() => ctx.transaction(async (tx) => {
    await tx.q(ctx.q.claimLock, [claimLockName(ctx, p.queue)]);
    let limit = p.limit;
    let bucket: RateBucketRow | null = null;
    if (p.rate) {
      bucket = await lockBucket(tx, ctx.schema, p.rate, p.now);
      limit = Math.min(limit, take(bucket, p.rate, 0, p.now).taken.tokens);
      if (limit === 0) return held([], nextTokenAt(take(bucket, p.rate, 0, p.now).row, p.now));
    }
    const q = { ...p, limit };
    const { rows, heldUntil: keysHeld } = await pickAndLease(ctx, tx, q, rule);
    const jobs = limitedJobs(rows, p);
    let heldUntil = keysHeld;
    if (bucket && p.rate) {
      const done = take(bucket, p.rate, jobs.length, p.now);
      await tx.q(`UPDATE ${ctx.schema}.rate_limits SET units = $2, updated_at = $3, rate = $4, per_ms = $5, burst = $6 WHERE name = $1`,
        [p.rate.name, done.row.units, done.row.updatedAt, done.row.rate, done.row.perMs, done.row.burst]);
      // The queue's bucket held jobs back: it had fewer tokens than asked and the claim used them all.
      if (limit < p.limit && jobs.length === limit) heldUntil = done.taken.nextAt;
    }
    return held(jobs, heldUntil);
  }), `claim from ${p.queue}`);
}

/** A limited claim's rows as jobs, in claim order (a fifo claim's rows, its jobs without a key, have no sort key). */
const limitedJobs = (rows: readonly LimitedRow[], p: ClaimParams): Job[] =>
  inClaimOrder(rows.map(({ sort_key, ...row }) => ({ key: sort_key ?? null, job: pgRowToJob(row) })), p.byKey === true);

/** The name whose hash keys a queue's claim lock: the limited claims of one queue take turns on it. */
const claimLockName = (ctx: PgContext<Store>, queue: string): string => `${ctx.schema}.${queue}`;

/**
 * The plain claim of the queue's order, when no key can reach its limit (see cannotBind): one
 * statement whose gate takes the queue's claim lock and counts the active jobs after it
 * (claim_gate), so it leases nothing when a key could reach its limit, and nothing when no job
 * is ready; the transaction of claimLimited then settles which, with the windowed pick. By sort
 * key, its jobs without a key follow by the fifo one when the keyed ones run short. On its own
 * (`db` the pool) or inside the transaction of a claim under a queue rate limit (`db` it).
 */
async function claimGated(ctx: PgContext<Store>, db: Executor, p: ClaimParams, rule: ConcurrencyRule): Promise<LimitedRow[]> {
  const args = (limit: number) => [p.queue, p.now, limit, p.now + p.leaseMs, p.workerId ?? null, p.tags ?? [], Math.min(smallestLimit(rule), INT_MAX), claimLockName(ctx, p.queue)];
  const claim = async (statement: string, limit: number) => (await db.q(statement, args(limit))) as unknown as LimitedRow[];
  const rows = await claim(p.byKey ? ctx.q.claimByKeyGated : ctx.q.claimGated, p.limit);
  if (p.byKey && rows.length > 0 && rows.length < p.limit) rows.push(...(await claim(ctx.q.claimGated, p.limit - rows.length)));
  return rows;
}

/**
 * Under the claim lock: the pick and lease of a limited claim of `p.limit` jobs, the charge of
 * its keys' tokens, and, when it leased fewer and left jobs behind only for their keys' tokens,
 * the earliest next token of those keys. (The plain claim a limit that cannot bind allows was
 * tried first, by claimGated, when the queue has neither group FIFO nor rate limits.)
 */
async function pickAndLease(ctx: PgContext<Store>, tx: TxExecutor, p: ClaimParams, rule: ConcurrencyRule): Promise<{ rows: LimitedRow[]; heldUntil: number | null }> {
  const tags = p.tags ?? [];
  if (!rule.groupFifo && !p.keyRate && p.rate) {
    // Under a queue rate limit the gated claim runs here, in the transaction that charges the bucket.
    const rows = await claimGated(ctx, tx, p, rule);
    if (rows.length > 0) return { rows, heldUntil: null };
  }
  if (rule.groupFifo) {
    const args = [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, rule.limit, JSON.stringify(rule.limits), true, tags];
    if (!p.keyRate) return { rows: (await tx.q(p.byKey ? ctx.q.claimLimitedByKey : ctx.q.claimLimited, args)) as unknown as LimitedRow[], heldUntil: null };
    const keyRate = JSON.stringify(p.keyRate);
    const rows = (await tx.q(p.byKey ? ctx.q.claimKeyRateByKey : ctx.q.claimKeyRate, [...args, keyRate])) as unknown as LimitedRow[];
    await chargeKeys(ctx, tx, p.queue, p.keyRate, rows, p.now);
    if (rows.length >= p.limit) return { rows, heldUntil: null };
    // Fewer than asked: when do the keys whose jobs wait only for tokens get their next one (read after the charge)?
    const [h] = (await tx.q(p.byKey ? ctx.q.keyRateHeldByKey : ctx.q.keyRateHeld,
      [p.queue, p.now, rule.limit, JSON.stringify(rule.limits), true, tags, keyRate])) as unknown as { held: number | null }[];
    return { rows, heldUntil: h?.held == null ? null : Number(h.held) };
  }
  const keys = p.keyRate ? new KeyTokens(p.queue, p.keyRate, p.now) : null;
  let picked: ReturnType<typeof pickFromWindow> = { ids: [], read: 0, short: new Set() };
  for (let window: number | null = firstWindow(p.limit); window !== null; ) {
    const rows = (await tx.q(p.byKey ? ctx.q.claimWindowByKey : ctx.q.claimWindow, [p.queue, p.now, p.limit, window, tags])) as unknown as WindowRow[];
    if (keys) await readKeys(ctx, tx, keys, rows);
    picked = pickFromWindow(rows, rule, p.limit, keys?.tokens ?? null);
    window = nextWindow(window, picked.read, picked.ids.length, p.limit);
  }
  const rows = picked.ids.length === 0 ? [] : ((await tx.q(ctx.q.claimIds, [picked.ids, p.now, p.now + p.leaseMs, p.workerId ?? null])) as unknown as LimitedRow[]);
  if (!keys || !p.keyRate) return { rows, heldUntil: null };
  await chargeKeys(ctx, tx, p.queue, p.keyRate, rows, p.now);
  return { rows, heldUntil: rows.length < p.limit ? keys.heldUntil(picked.short, rows.map((r) => r.concurrency_key)) : null };
}

/** The buckets of a window's limited keys not read yet, under the claim lock (only this queue's claims charge them). */
async function readKeys(ctx: PgContext<Store>, tx: TxExecutor, keys: KeyTokens, rows: readonly WindowRow[]): Promise<void> {
  const names = keys.unread(rows);
  if (names.size === 0) return;
  const found = (await tx.q(ctx.q.keyBuckets, [[...names.keys()]])) as unknown as { name: string; units: number; updated_at: number; rate: number; per_ms: number; burst: number }[];
  const byName = new Map(found.map((r) => [r.name, r]));
  for (const [name, key] of names) {
    const r = byName.get(name);
    keys.add(key, r ? { units: Number(r.units), updatedAt: Number(r.updated_at), rate: Number(r.rate), perMs: Number(r.per_ms), burst: Number(r.burst) } : null);
  }
}

/** One token of each leased job's key bucket, in the claim's transaction (a key without a row had a full bucket). */
async function chargeKeys(ctx: PgContext<Store>, tx: TxExecutor, queue: string, rule: KeyRateRule, rows: readonly LimitedRow[], now: number): Promise<void> {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.concurrency_key != null) counts.set(r.concurrency_key, (counts.get(r.concurrency_key) ?? 0) + 1);
  const charged = [...counts].flatMap(([key, n]) => {
    const params = keyRateOf(rule, key);
    return params ? [{ name: keyBucketName(queue, key), n, ...params }] : [];
  });
  if (charged.length === 0) return;
  await tx.q(ctx.q.keyRateCharge, [charged.map((c) => c.name), now, charged.map((c) => c.n), charged.map((c) => c.rate), charged.map((c) => c.perMs), charged.map((c) => c.burst)]);
}

/** Inside the claim's transaction: the queue bucket's row, locked to the commit (made full if it has none). */
async function lockBucket(tx: TxExecutor, schema: string, b: RateBucket, now: number): Promise<RateBucketRow> {
  const read = async () => (await tx.q(`SELECT units, updated_at, rate, per_ms, burst FROM ${schema}.rate_limits WHERE name = $1 FOR UPDATE`, [b.name])) as unknown as
    { units: number; updated_at: number; rate: number; per_ms: number; burst: number }[];
  let rows = await read();
  if (rows.length === 0) {
    await ensureBucket({ db: tx, schema }, b, now);
    rows = await read();
  }
  const r = rows[0]!;
  return { units: Number(r.units), updatedAt: Number(r.updated_at), rate: Number(r.rate), perMs: Number(r.per_ms), burst: Number(r.burst) };
}
