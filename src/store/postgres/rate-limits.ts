import { fullBucket, isFull, KEY_BUCKET_PREFIX, take, type RateBucket, type RateBucketRow, type RateTaken } from '../rate-bucket.ts';
import type { Store } from '../store.ts';
import type { PgContext } from './cluster.ts';

/**
 * The `rate_limits` table of the PostgreSQL store (schema version 13): the token buckets of
 * rate limits, shared by every process on the schema. Claims take their tokens (claims.ts,
 * claim-statements.ts); here are the reads and upkeep.
 */

interface BucketDbRow {
  name: string;
  units: number;
  updated_at: number;
  rate: number;
  per_ms: number;
  burst: number;
}

const toRow = (r: BucketDbRow): RateBucketRow => ({ units: r.units, updatedAt: r.updated_at, rate: r.rate, perMs: r.per_ms, burst: r.burst });

export async function rateLimitRead(ctx: PgContext<Store>, p: RateBucket & { now: number }): Promise<RateTaken> {
  const rows = (await ctx.run(
    () => ctx.db.q(`SELECT name, units, updated_at, rate, per_ms, burst FROM ${ctx.schema}.rate_limits WHERE name = $1`, [p.name]),
    `read rate limit ${p.name}`,
  )) as unknown as BucketDbRow[];
  return take(rows[0] ? toRow(rows[0]) : fullBucket(p, p.now), p, 0, p.now).taken;
}

/**
 * Deletes the per-key buckets full at `now`, of at most `limit` read after `after`. The delete
 * names the row's values as read: a claim that charged it meanwhile changed them (read
 * committed re-checks the condition on the newest row), so a bucket in use is never dropped.
 */
export async function rateLimitsDropFull(ctx: PgContext<Store>, p: { now: number; after: string; limit: number }): Promise<{ deleted: number; next: string | null }> {
  const s = ctx.schema;
  return ctx.run(async () => {
    const rows = (await ctx.db.q(
      `SELECT name, units, updated_at, rate, per_ms, burst FROM ${s}.rate_limits WHERE name > $1 AND name < $2 ORDER BY name LIMIT $3`,
      [p.after < KEY_BUCKET_PREFIX ? KEY_BUCKET_PREFIX : p.after, `${KEY_BUCKET_PREFIX.slice(0, -1)};`, p.limit],
    )) as unknown as BucketDbRow[];
    const full = rows.filter((r) => isFull(toRow(r), p.now));
    let deleted = 0;
    if (full.length > 0) {
      const gone = await ctx.db.q(
        `DELETE FROM ${s}.rate_limits b USING unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(name, units, updated_at)
         WHERE b.name = t.name AND b.units = t.units AND b.updated_at = t.updated_at RETURNING b.name`,
        [full.map((r) => r.name), full.map((r) => r.units), full.map((r) => r.updated_at)],
      );
      deleted = gone.length;
    }
    return { deleted, next: rows.length < p.limit ? null : rows[rows.length - 1]!.name };
  }, 'drop full rate limit buckets');
}
