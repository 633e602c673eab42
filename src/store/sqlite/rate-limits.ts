import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { fullBucket, giveBack, take, type RateBucket, type RateBucketRow, type RateTaken } from '../rate-bucket.ts';
import type { GroupCommit } from './group-commit.ts';

interface BucketDbRow {
  units: number;
  updated_at: number;
  rate: number;
  per_ms: number;
  burst: number;
}

/**
 * The `rate_limits` table of the SQLite store (schema version 15): the token buckets of rate
 * limits. A take reads and writes its row inside the group commit's transaction, which holds
 * SQLite's write lock from its start (BEGIN IMMEDIATE): processes sharing the file take in turn.
 */
export class SqliteRateLimits {
  readonly #group: GroupCommit;
  readonly #s: Record<'get' | 'put', StatementSync>;

  constructor(db: DatabaseSync, group: GroupCommit) {
    this.#group = group;
    this.#s = {
      get: db.prepare(`SELECT units, updated_at, rate, per_ms, burst FROM rate_limits WHERE name = ?`),
      put: db.prepare(
        `INSERT INTO rate_limits (name, units, updated_at, rate, per_ms, burst) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (name) DO UPDATE SET units = ?2, updated_at = ?3, rate = ?4, per_ms = ?5, burst = ?6`,
      ),
    };
  }

  take(p: RateBucket & { want: number; now: number }): Promise<RateTaken> {
    return this.#group.submit(() => {
      const done = take(this.#row(p.name) ?? fullBucket(p, p.now), p, p.want, p.now);
      this.#put(p.name, done.row);
      return done.taken;
    });
  }

  giveBack(p: RateBucket & { count: number; since: number }): Promise<void> {
    return this.#group.submit(() => {
      const row = this.#row(p.name);
      const after = row && giveBack(row, p, p.count, p.since);
      if (after) this.#put(p.name, after);
    });
  }

  read(p: RateBucket & { now: number }): RateTaken {
    return take(this.#row(p.name) ?? fullBucket(p, p.now), p, 0, p.now).taken;
  }

  #row(name: string): RateBucketRow | null {
    const r = this.#s.get.get(name) as unknown as BucketDbRow | undefined;
    return r ? { units: r.units, updatedAt: r.updated_at, rate: r.rate, perMs: r.per_ms, burst: r.burst } : null;
  }

  #put(name: string, r: RateBucketRow): void {
    this.#s.put.run(name, r.units, r.updatedAt, r.rate, r.perMs, r.burst);
  }
}
