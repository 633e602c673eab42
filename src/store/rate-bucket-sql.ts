/**
 * The formulas of src/store/rate-bucket.ts in SQL, for the statements that read and charge
 * buckets inside a claim (both drivers: each gives its own spellings). Integer arithmetic only:
 * both databases divide integers to integers, as the TypeScript floors.
 */

/** How a statement names a bucket row and the parameters it is read under. */
export interface BucketSql {
  /** The alias of the `rate_limits` row. */
  row: string;
  /** The caller's parameters (expressions). */
  rate: string;
  perMs: string;
  burst: string;
  /** The claim's time. */
  now: string;
  /** The driver's two-argument minimum and maximum (LEAST/GREATEST, min/max). */
  least: string;
  greatest: string;
}

/** The units of the row at `now` under the caller's parameters: `refilled` of rate-bucket.ts. */
export function unitsSql(d: BucketSql): string {
  const r = d.row;
  const cap = `(${r}.burst * ${r}.per_ms)`;
  const refilled = `${d.least}(${cap}, ${r}.units + ${d.least}(${d.greatest}(${d.now} - ${r}.updated_at, 0), (${cap} - ${r}.units) / ${r}.rate + 1) * ${r}.rate)`;
  return `(CASE WHEN ${r}.rate = ${d.rate} AND ${r}.per_ms = ${d.perMs} AND ${r}.burst = ${d.burst} THEN ${refilled}
    ELSE ${d.least}(${refilled} / ${r}.per_ms, ${d.burst}) * ${d.perMs} END)`;
}

/** When a bucket holding `units` (at `now`, row time `row.updated_at`) next holds a whole token: `nextTokenAt` of rate-bucket.ts. */
export function nextAtSql(d: BucketSql, units: string): string {
  return `(CASE WHEN ${units} >= ${d.perMs} THEN ${d.now}
    ELSE ${d.greatest}(${d.now}, ${d.row}.updated_at) + (${d.perMs} - ${units} + ${d.rate} - 1) / ${d.rate} END)`;
}
