import { compareClaimOrder, type Job } from '../../core/job.ts';
import { inClaimOrder, NO_CONCURRENCY } from '../concurrency-claim.ts';
import { fullBucket, keyBucketName, keyRateOf, nextTokenAt, take, type RateBucket } from '../rate-bucket.ts';
import type { ClaimedJobs, ClaimParams, Store } from '../store.ts';
import type { PgContext } from './cluster.ts';
import type { TxExecutor } from './pg-client.ts';
import { pgRowToJob, type PgJobRow } from './rows.ts';

/** Claims of the PostgreSQL store (its jobsClaim delegates here): fifo, by sort key, under per-key limits, and under rate limits. */

export async function jobsClaim(ctx: PgContext<Store>, p: ClaimParams): Promise<ClaimedJobs> {
  if (p.concurrency || p.keyRate) return claimLimited(ctx, p);
  if (p.byKey) return claimByKey(ctx, p);
  if (p.rate) {
    const { rows, heldUntil } = await claimRated(ctx, p, p.rate, ctx.q.claimRated);
    return held(rows.map(pgRowToJob).sort(compareClaimOrder), heldUntil);
  }
  const rows = await ctx.run(
    () => ctx.db.q(ctx.q.claim, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null]),
    `claim from ${p.queue}`,
  );
  return (rows as unknown as PgJobRow[]).map(pgRowToJob).sort(compareClaimOrder);
}

const held = (jobs: Job[], heldUntil: number | null): ClaimedJobs => (heldUntil === null ? jobs : Object.assign(jobs, { heldUntil }));

type RatedRow = PgJobRow & { rl_units: number; rl_updated_at: number };

/**
 * A claim under a queue's rate limit: one statement that takes the bucket's tokens with the
 * lease (see `rated` in claim-statements.ts). A bucket without a row yet is made, full (of
 * concurrent first claims, one inserts), and the claim runs again.
 */
async function claimRated<R extends PgJobRow>(ctx: PgContext<Store>, p: ClaimParams, b: RateBucket, statement: string): Promise<{ rows: R[]; heldUntil: number | null }> {
  const args = [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null, b.name, b.rate, b.perMs, b.burst];
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
      () => ctx.db.q(ctx.q.claimByKey, [p.queue, p.now, p.limit, p.now + p.leaseMs, p.workerId ?? null]),
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

/**
 * A queue with per-key limits, group FIFO or per-key rate limits: its claims take turns on the
 * queue's advisory lock, so each one's statement counts the active jobs every earlier claim
 * leased and the key tokens it took (they committed before the lock was free), and no two
 * claims together pass a key's limit or spend a key's token twice. A queue rate limit is read
 * and charged in the same transaction, its row locked (FOR UPDATE) from the read to the commit.
 */
async function claimLimited(ctx: PgContext<Store>, p: ClaimParams): Promise<ClaimedJobs> {
  const rule = p.concurrency ?? NO_CONCURRENCY;
  const byKey = p.byKey === true;
  return ctx.run(() => ctx.transaction(async (tx) => {
    await tx.q(ctx.q.claimLock, [`${ctx.schema}.${p.queue}`]);
    let limit = p.limit;
    let bucket: { row: ReturnType<typeof fullBucket>; tokens: number } | null = null;
    if (p.rate) {
      bucket = await lockBucket(tx, ctx.schema, p.rate, p.now);
      limit = Math.min(limit, bucket.tokens);
      if (limit === 0) return held([], nextTokenAt(take(bucket.row, p.rate, 0, p.now).row, p.now));
    }
    const keyRate = p.keyRate ? JSON.stringify(p.keyRate) : null;
    const args = [p.queue, p.now, limit, p.now + p.leaseMs, p.workerId ?? null, rule.limit, JSON.stringify(rule.limits), rule.groupFifo];
    const statement = keyRate === null ? (byKey ? ctx.q.claimLimitedByKey : ctx.q.claimLimited) : byKey ? ctx.q.claimKeyRateByKey : ctx.q.claimKeyRate;
    const rows = (await tx.q(statement, keyRate === null ? args : [...args, keyRate])) as unknown as (PgJobRow & { sort_key: number | null })[];
    const jobs: ClaimedJobs = inClaimOrder(rows.map(({ sort_key, ...row }) => ({ key: sort_key, job: pgRowToJob(row) })), byKey);
    let heldUntil: number | null = null;
    if (bucket && p.rate) {
      const done = take(bucket.row, p.rate, jobs.length, p.now);
      await tx.q(`UPDATE ${ctx.schema}.rate_limits SET units = $2, updated_at = $3, rate = $4, per_ms = $5, burst = $6 WHERE name = $1`,
        [p.rate.name, done.row.units, done.row.updatedAt, done.row.rate, done.row.perMs, done.row.burst]);
      if (limit < p.limit && jobs.length === limit) heldUntil = done.taken.nextAt;
    }
    if (p.keyRate && keyRate !== null) {
      const counts = new Map<string, number>();
      for (const j of jobs) if (j.concurrencyKey != null) counts.set(j.concurrencyKey, (counts.get(j.concurrencyKey) ?? 0) + 1);
      const charged = [...counts].flatMap(([key, n]) => {
        const params = keyRateOf(p.keyRate!, key);
        return params ? [{ name: keyBucketName(p.queue, key), n, ...params }] : [];
      });
      if (charged.length > 0) {
        await tx.q(ctx.q.keyRateCharge, [charged.map((c) => c.name), p.now, charged.map((c) => c.n), charged.map((c) => c.rate), charged.map((c) => c.perMs), charged.map((c) => c.burst)]);
      }
      if (heldUntil === null && jobs.length < limit) {
        const [h] = (await tx.q(byKey ? ctx.q.keyRateHeldByKey : ctx.q.keyRateHeld,
          [p.queue, p.now, rule.limit, JSON.stringify(rule.limits), rule.groupFifo, keyRate])) as unknown as { held: number | null }[];
        if (h?.held != null) heldUntil = Number(h.held);
      }
    }
    return held(jobs, heldUntil);
  }), `claim from ${p.queue}`);
}

/** Inside the claim's transaction: the queue bucket's row, locked to the commit (made full if it has none), and its whole tokens at `now`. */
async function lockBucket(tx: TxExecutor, schema: string, b: RateBucket, now: number): Promise<{ row: ReturnType<typeof fullBucket>; tokens: number }> {
  const read = async () => (await tx.q(`SELECT units, updated_at, rate, per_ms, burst FROM ${schema}.rate_limits WHERE name = $1 FOR UPDATE`, [b.name])) as unknown as
    { units: number; updated_at: number; rate: number; per_ms: number; burst: number }[];
  let rows = await read();
  if (rows.length === 0) {
    await ensureBucket({ db: tx, schema }, b, now);
    rows = await read();
  }
  const r = rows[0]!;
  const row = { units: Number(r.units), updatedAt: Number(r.updated_at), rate: Number(r.rate), perMs: Number(r.per_ms), burst: Number(r.burst) };
  return { row, tokens: take(row, b, 0, now).taken.tokens };
}
