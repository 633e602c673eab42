import { fullBucket, nextTokenAt, take, type RateBucket, type RateBucketRow, type RateTaken } from '../rate-bucket.ts';
import type { Store } from '../store.ts';
import type { PgContext } from './cluster.ts';

/**
 * The `rate_limits` table of the PostgreSQL store (schema version 13): the token buckets of
 * rate limits, shared by every process on the schema. A take is one UPDATE of the bucket's row:
 * PostgreSQL locks the row, and a take that waited for another's commit computes from the row
 * that one left (read committed re-reads an updated row before updating it), so concurrent takes
 * never see the same tokens. The formulas are those of src/store/rate-bucket.ts, in SQL.
 */

/** Parameters: $1 name, $2 want, $3 rate, $4 perMs, $5 burst, $6 now. */
const CAP = `(b.burst * b.per_ms)`;
const REFILLED = `LEAST(${CAP}, b.units + LEAST(GREATEST($6::bigint - b.updated_at, 0), (${CAP} - b.units) / b.rate + 1) * b.rate)`;
const CONVERTED = `(CASE WHEN b.rate = $3::bigint AND b.per_ms = $4::bigint AND b.burst = $5::bigint THEN ${REFILLED}
  ELSE LEAST(${REFILLED} / b.per_ms, $5::bigint) * $4::bigint END)`;
const TAKEN = `LEAST($2::bigint, ${CONVERTED} / $4::bigint)`;

const takeSql = (s: string) => `UPDATE ${s}.rate_limits b
  SET taken = ${TAKEN}, units = ${CONVERTED} - ${TAKEN} * $4::bigint, updated_at = GREATEST(b.updated_at, $6::bigint),
      rate = $3::bigint, per_ms = $4::bigint, burst = $5::bigint
  WHERE b.name = $1
  RETURNING b.taken, b.units, b.updated_at, b.rate, b.per_ms, b.burst`;

interface BucketDbRow {
  taken: number;
  units: number;
  updated_at: number;
  rate: number;
  per_ms: number;
  burst: number;
}

const toRow = (r: BucketDbRow): RateBucketRow => ({ units: r.units, updatedAt: r.updated_at, rate: r.rate, perMs: r.per_ms, burst: r.burst });

export async function rateLimitTake(ctx: PgContext<Store>, p: RateBucket & { want: number; now: number }): Promise<RateTaken> {
  const args = [p.name, p.want, p.rate, p.perMs, p.burst, p.now];
  return ctx.run(async () => {
    let rows = (await ctx.db.q(takeSql(ctx.schema), args)) as unknown as BucketDbRow[];
    if (rows.length === 0) {
      // The bucket's first take: make it, full (of concurrent first takes, one inserts), then take.
      const full = fullBucket(p, p.now);
      await ctx.db.q(
        `INSERT INTO ${ctx.schema}.rate_limits (name, units, updated_at, rate, per_ms, burst) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`,
        [p.name, full.units, full.updatedAt, full.rate, full.perMs, full.burst],
      );
      rows = (await ctx.db.q(takeSql(ctx.schema), args)) as unknown as BucketDbRow[];
    }
    const r = rows[0]!;
    const row = toRow(r);
    return { taken: r.taken, tokens: Math.floor(r.units / r.per_ms), nextAt: nextTokenAt(row, p.now), at: r.updated_at };
  }, `take from rate limit ${p.name}`);
}

export async function rateLimitGiveBack(ctx: PgContext<Store>, p: RateBucket & { count: number; since: number }): Promise<void> {
  await ctx.run(
    () => ctx.db.q(
      `UPDATE ${ctx.schema}.rate_limits SET units = LEAST(burst * per_ms, units + $2::bigint * per_ms)
       WHERE name = $1 AND rate = $3::bigint AND per_ms = $4::bigint AND burst = $5::bigint AND updated_at = $6::bigint`,
      [p.name, p.count, p.rate, p.perMs, p.burst, p.since],
    ),
    `give tokens back to rate limit ${p.name}`,
  );
}

export async function rateLimitRead(ctx: PgContext<Store>, p: RateBucket & { now: number }): Promise<RateTaken> {
  const rows = (await ctx.run(
    () => ctx.db.q(`SELECT 0 AS taken, units, updated_at, rate, per_ms, burst FROM ${ctx.schema}.rate_limits WHERE name = $1`, [p.name]),
    `read rate limit ${p.name}`,
  )) as unknown as BucketDbRow[];
  return take(rows[0] ? toRow(rows[0]) : fullBucket(p, p.now), p, 0, p.now).taken;
}
