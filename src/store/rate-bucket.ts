/**
 * The arithmetic of a rate limit's token bucket, shared by the drivers (the SQLite store runs it
 * in its transaction; the PostgreSQL store's statement is the same formulas in SQL).
 *
 * A bucket is counted in whole *units*, one token being `perMs` units, and gains `rate` units
 * per millisecond: integers throughout, so no rounding ever lets one more job through. With the
 * bounds of the limits table (`burst · perMs` ≤ 8.64·10¹³), every value stays an exact integer
 * in a double and in a 64-bit column.
 */

/** A bucket's parameters: `rate` tokens every `perMs`, at most `burst` held. */
export interface RateParams {
  rate: number;
  perMs: number;
  burst: number;
}

/** A bucket as the engine names it: its key and its parameters. */
export interface RateBucket extends RateParams {
  /** The bucket's key: `queue:<name>` for a queue's own, `limiter:<name>` for a shared one, `key:<queue>/<key>` for a job key's. */
  name: string;
}

/** A queue's per-key rate limits (ClaimParams.keyRate): the buckets of keys not in `limits` (null: none), and those of the keys named. */
export interface KeyRateRule {
  limit: RateParams | null;
  limits: Readonly<Record<string, RateParams>>;
}

/** The prefix of every per-key bucket's name (what upkeep looks for when it drops idle full ones). */
export const KEY_BUCKET_PREFIX = 'key:';

/** The bucket of `key`'s jobs in `queue`: '/' is in no queue name, so no two (queue, key) pairs share a name. */
export function keyBucketName(queue: string, key: string): string {
  return `${KEY_BUCKET_PREFIX}${queue}/${key}`;
}

/** The parameters of `key`'s bucket under `rule`, or null when the key is not limited. */
export function keyRateOf(rule: KeyRateRule, key: string): RateParams | null {
  return Object.hasOwn(rule.limits, key) ? rule.limits[key]! : rule.limit;
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
 * (now, if one is left), and `at`, the bucket's time after it.
 */
export interface RateTaken {
  taken: number;
  tokens: number;
  nextAt: number;
  at: number;
}

/** A new bucket: full. */
export function fullBucket(b: RateParams, now: number): RateBucketRow {
  return { units: b.burst * b.perMs, updatedAt: now, rate: b.rate, perMs: b.perMs, burst: b.burst };
}

/**
 * The units of `row` at `now`, refilled under its own parameters and then, if the caller's differ
 * (the limit was changed), converted to them: whole tokens only, at most the new burst. Time
 * before the row's `updatedAt` (another process's clock ahead of ours) refills nothing.
 */
export function refilled(row: RateBucketRow, b: RateParams, now: number): number {
  const cap = row.burst * row.perMs;
  const elapsed = Math.max(0, now - row.updatedAt);
  // min(elapsed, what fills the bucket), so that elapsed · rate stays below cap + rate.
  const units = Math.min(cap, row.units + Math.min(elapsed, Math.floor((cap - row.units) / row.rate) + 1) * row.rate);
  if (row.rate === b.rate && row.perMs === b.perMs && row.burst === b.burst) return units;
  return Math.min(Math.floor(units / row.perMs), b.burst) * b.perMs;
}

/** Takes up to `want` whole tokens from the bucket at `now`: the row to store and what was taken. */
export function take(row: RateBucketRow, b: RateParams, want: number, now: number): { row: RateBucketRow; taken: RateTaken } {
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

/** Whether `row` is full at `now` under its own parameters: it then holds what no row would, and may be deleted. */
export function isFull(row: RateBucketRow, now: number): boolean {
  return refilled(row, row, now) >= row.burst * row.perMs;
}
