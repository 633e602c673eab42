/**
 * The per-key rate limits of a windowed claim (ClaimParams.keyRate; see pickFromWindow in
 * concurrency-claim.ts): the buckets of the keys a window holds, read in the claim's own
 * transaction (each driver reads the rows it is asked for), their whole tokens at the claim's
 * time, and, once the claim leased, when the first key it passed over for lack of tokens gets
 * its next one. The arithmetic is rate-bucket.ts's, the same the charge that follows applies,
 * so the pick never counts a token the charge would not find.
 */

import type { WindowRow } from './concurrency-claim.ts';
import { fullBucket, keyBucketName, keyRateOf, take, type KeyRateRule, type RateBucketRow, type RateParams } from './rate-bucket.ts';

export class KeyTokens {
  readonly #queue: string;
  readonly #rule: KeyRateRule;
  readonly #now: number;
  /** The limited keys read so far: their parameters, their row (a full one when they had none) and whole tokens. */
  readonly #read = new Map<string, { params: RateParams; row: RateBucketRow; tokens: number }>();

  constructor(queue: string, rule: KeyRateRule, now: number) {
    this.#queue = queue;
    this.#rule = rule;
    this.#now = now;
  }

  /** The buckets to read for `rows` (a window): bucket name → key, for each limited key not read yet. */
  unread(rows: readonly WindowRow[]): Map<string, string> {
    const names = new Map<string, string>();
    for (const r of rows) {
      if (r.ck === null || this.#read.has(r.ck) || keyRateOf(this.#rule, r.ck) === null) continue;
      names.set(keyBucketName(this.#queue, r.ck), r.ck);
    }
    return names;
  }

  /** What the driver read for `key`'s bucket (null: no row yet, which is a full bucket). */
  add(key: string, row: RateBucketRow | null): void {
    const params = keyRateOf(this.#rule, key);
    if (params === null) return;
    const r = row ?? fullBucket(params, this.#now);
    this.#read.set(key, { params, row: r, tokens: take(r, params, 0, this.#now).taken.tokens });
  }

  /** The whole tokens of `key`'s bucket at the claim's time; null when the key is not limited (what pickFromWindow takes). */
  readonly tokens = (key: string): number | null => this.#read.get(key)?.tokens ?? null;

  /**
   * When the first of the `short` keys (passed over for lack of tokens) gets its next token, once
   * the claim charged one token per leased job of its key (`leased`: each leased job's key).
   */
  heldUntil(short: ReadonlySet<string>, leased: readonly (string | null)[]): number | null {
    if (short.size === 0) return null;
    const n = new Map<string, number>();
    for (const k of leased) if (k !== null) n.set(k, (n.get(k) ?? 0) + 1);
    let at: number | null = null;
    for (const key of short) {
      const b = this.#read.get(key);
      if (!b) continue;
      const next = take(b.row, b.params, n.get(key) ?? 0, this.#now).taken.nextAt;
      at = at === null ? next : Math.min(at, next);
    }
    return at;
  }
}
