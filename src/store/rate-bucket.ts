/**
 * The arithmetic of a rate limit's token bucket, shared by the drivers (the SQLite store runs it
 * in its transaction; the PostgreSQL store's statement is the same formulas in SQL).
 *
 * A bucket is counted in whole *units*, one token being `perMs` units, and gains `rate` units
 * per millisecond: integers throughout, so no rounding ever lets one more job through. With the
 * bounds of the limits table (`burst · perMs` ≤ 8.64·10¹³), every value stays an exact integer
 * in a double and in a 64-bit column.
 */

/** A bucket as the engine names it: its key and its parameters. */
export interface RateBucket {
  /** The bucket's key: `queue:<name>` for a queue's own, `limiter:<name>` for a shared one. */
  name: string;
  rate: number;
  perMs: number;
  burst: number;
}

/** A bucket as a store keeps it. */
export interface RateBucketRow {
  units: number;
  updatedAt: number;
  rate: number;
  perMs: number;
  burst: number;
}

/**
 * What a take did: how many tokens it took, the whole tokens left, when the next whole one is due
 * (now, if one is left), and `at`, the bucket's time after it (what a give-back of these tokens names).
 */
export interface RateTaken {
  taken: number;
  tokens: number;
  nextAt: number;
  at: number;
}

/** A new bucket: full. */
export function fullBucket(b: RateBucket, now: number): RateBucketRow {
  return { units: b.burst * b.perMs, updatedAt: now, rate: b.rate, perMs: b.perMs, burst: b.burst };
}

/**
 * The units of `row` at `now`, refilled under its own parameters and then, if the caller's differ
 * (the limit was changed), converted to them: whole tokens only, at most the new burst. Time
 * before the row's `updatedAt` (another process's clock ahead of ours) refills nothing.
 */
export function refilled(row: RateBucketRow, b: RateBucket, now: number): number {
  const cap = row.burst * row.perMs;
  const elapsed = Math.max(0, now - row.updatedAt);
  // min(elapsed, what fills the bucket), so that elapsed · rate stays below cap + rate.
  const units = Math.min(cap, row.units + Math.min(elapsed, Math.floor((cap - row.units) / row.rate) + 1) * row.rate);
  if (row.rate === b.rate && row.perMs === b.perMs && row.burst === b.burst) return units;
  return Math.min(Math.floor(units / row.perMs), b.burst) * b.perMs;
}

/** Takes up to `want` whole tokens from the bucket at `now`: the row to store and what was taken. */
export function take(row: RateBucketRow, b: RateBucket, want: number, now: number): { row: RateBucketRow; taken: RateTaken } {
  const units = refilled(row, b, now);
  const taken = Math.min(want, Math.floor(units / b.perMs));
  const after: RateBucketRow = { units: units - taken * b.perMs, updatedAt: Math.max(row.updatedAt, now), rate: b.rate, perMs: b.perMs, burst: b.burst };
  return { row: after, taken: { taken, tokens: Math.floor(after.units / b.perMs), nextAt: nextTokenAt(after, now), at: after.updatedAt } };
}

/** When `row` next holds a whole token: `now` if it holds one. */
export function nextTokenAt(row: RateBucketRow, now: number): number {
  if (row.units >= row.perMs) return now;
  return Math.max(now, row.updatedAt + Math.ceil((row.perMs - row.units) / row.rate));
}

/**
 * Gives `count` unused tokens back (a claim found fewer jobs than it was admitted), up to the
 * bucket's size, under its stored parameters only: a bucket whose limit changed meanwhile keeps
 * what it has. Only while the bucket's time is still `since`, the `at` of the take that took them:
 * once a later take refilled the bucket, the refill may have made up for them already (a bucket
 * that reached its size while they were out would hold them twice), so they are dropped. Dropped
 * tokens only ever hold jobs back; never more than the bucket would hold had they not been taken.
 */
export function giveBack(row: RateBucketRow, b: RateBucket, count: number, since: number): RateBucketRow | null {
  if (row.rate !== b.rate || row.perMs !== b.perMs || row.burst !== b.burst || row.updatedAt !== since) return null;
  return { ...row, units: Math.min(row.burst * row.perMs, row.units + count * row.perMs) };
}
