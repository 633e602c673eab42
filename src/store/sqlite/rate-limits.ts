import type { DatabaseSync, StatementSync } from 'node:sqlite';
import {
  fullBucket, isFull, KEY_BUCKET_PREFIX, keyBucketName, keyRateOf, take,
  type KeyRateRule, type RateBucket, type RateBucketRow, type RateParams, type RateTaken,
} from '../rate-bucket.ts';
import { prepare } from './prepare.ts';

interface BucketDbRow {
  name: string;
  units: number;
  updated_at: number;
  rate: number;
  per_ms: number;
  burst: number;
}

/**
 * The `rate_limits` table of the SQLite store (schema version 15): the token buckets of rate
 * limits. Claims read and charge them inside their own transaction (the group commit's, which
 * holds SQLite's write lock from its start, BEGIN IMMEDIATE): processes sharing the file take
 * in turn, and a token is taken in the same commit as the lease it pays for.
 */
export class SqliteRateLimits {
  readonly #s: Record<'get' | 'put' | 'keyRows' | 'drop', StatementSync>;

  constructor(db: DatabaseSync) {
    this.#s = {
      get: db.prepare(`SELECT name, units, updated_at, rate, per_ms, burst FROM rate_limits WHERE name = ?`),
      put: db.prepare(
        `INSERT INTO rate_limits (name, units, updated_at, rate, per_ms, burst) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (name) DO UPDATE SET units = ?2, updated_at = ?3, rate = ?4, per_ms = ?5, burst = ?6`,
      ),
      // The per-key buckets after ?1 in name order, at most ?2 (upkeep's sweep; the primary key is the index).
      keyRows: prepare(db, `SELECT name, units, updated_at, rate, per_ms, burst FROM rate_limits WHERE name > ?1 AND name < '${KEY_BUCKET_PREFIX.slice(0, -1)};' ORDER BY name LIMIT ?2`),
      drop: db.prepare(`DELETE FROM rate_limits WHERE name = ?`),
    };
  }

  /** Inside the claim's transaction: the whole tokens `b` holds at `now`, and the row they were read from. */
  open(b: RateBucket, now: number): { row: RateBucketRow; tokens: number; nextAt: number } {
    const row = this.#row(b.name) ?? fullBucket(b, now);
    const t = take(row, b, 0, now).taken;
    return { row, tokens: t.tokens, nextAt: t.nextAt };
  }

  /** Inside the claim's transaction: takes `n` tokens of `b` from `row` (what `open` read) and stores it. */
  charge(b: RateBucket, row: RateBucketRow, n: number, now: number): RateTaken {
    const done = take(row, b, n, now);
    if (n > 0) this.#put(b.name, done.row);
    return done.taken;
  }

  /** Inside the claim's transaction: one token of each leased job's key bucket (`keys`: a job's key, or null). */
  chargeKeys(queue: string, rule: KeyRateRule, keys: readonly (string | null)[], now: number): void {
    const counts = new Map<string, number>();
    for (const k of keys) if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
    for (const [key, n] of counts) {
      const params: RateParams | null = keyRateOf(rule, key);
      if (params === null) continue;
      const b = { name: keyBucketName(queue, key), ...params };
      this.charge(b, this.#row(b.name) ?? fullBucket(b, now), n, now);
    }
  }

  /** Inside the claim's transaction: the row of the bucket `name`, or null when it has none (a full bucket). */
  rowOf(name: string): RateBucketRow | null {
    return this.#row(name);
  }

  read(p: RateBucket & { now: number }): RateTaken {
    return take(this.#row(p.name) ?? fullBucket(p, p.now), p, 0, p.now).taken;
  }

  /**
   * Deletes the per-key buckets that are full at `now` (a full bucket is what a key without a
   * row has), reading at most `limit` rows after the name `after`; returns how many it deleted
   * and the name to continue after (null: the sweep reached the end).
   */
  dropFullKeys(now: number, after: string, limit: number): { deleted: number; next: string | null } {
    const rows = this.#s.keyRows.all(after < KEY_BUCKET_PREFIX ? KEY_BUCKET_PREFIX : after, limit) as unknown as BucketDbRow[];
    let deleted = 0;
    for (const r of rows) {
      if (isFull(toRow(r), now)) deleted += Number(this.#s.drop.run(r.name).changes);
    }
    return { deleted, next: rows.length < limit ? null : rows[rows.length - 1]!.name };
  }

  #row(name: string): RateBucketRow | null {
    const r = this.#s.get.get(name) as unknown as BucketDbRow | undefined;
    return r ? toRow(r) : null;
  }

  #put(name: string, r: RateBucketRow): void {
    this.#s.put.run(name, r.units, r.updatedAt, r.rate, r.perMs, r.burst);
  }
}

const toRow = (r: BucketDbRow): RateBucketRow => ({ units: r.units, updatedAt: r.updated_at, rate: r.rate, perMs: r.per_ms, burst: r.burst });
