import type { DatabaseSync } from 'node:sqlite';
import type { Duplicate, ItemOutcome, NewJobRow } from '../store.ts';
import type { Writes } from './admin.ts';
import { sortKeyOf } from './ordering.ts';

/**
 * Idempotent adds on SQLite: the key of a row is recorded in `publish_keys` in the transaction
 * of its insert (the group commit's), just before it. The hot path is a new key: one
 * `INSERT … ON CONFLICT DO NOTHING` whose change count says whether the key was new, instead of a
 * lookup and then an insert (RETURNING, measured, costs more than the two). A key already held
 * costs a lookup more, rare: re-sent adds.
 */

/**
 * Stores the job of `r` unless its idempotency key names a job already, within the window:
 * returns that job's id (nothing stored); or unless a live job of its queue holds its unique
 * key: returns `{ duplicateOf }` that job's id (nothing stored, its idempotency key not
 * recorded), or a finished one that holds it by its window (uniqueUntil) past the insert's
 * createdAt; or null when `r` was stored (with its keys, if any). A row whose insert fails
 * records no key either, so the caller may go on with its neighbours. One writer at a time, so
 * the lookup of the unique key's holder and the insert cannot interleave with another add; the
 * unique index (jobs_unique) stands behind it.
 */
export function storeRow({ s, counts }: Writes, db: DatabaseSync, r: NewJobRow): string | Duplicate | null {
  const k = r.idempotency;
  if (k) {
    const named = claimKey(s, r.queue, k, r.id, r.createdAt);
    if (named !== null) return named;
  }
  const u = r.uniqueKey ?? null;
  if (u !== null) {
    const holder = (s.uniqueHolder.get(r.queue, u) ?? s.uniqueWindowHolder.get(r.queue, u, r.createdAt)) as { id: string } | undefined;
    if (holder) {
      if (k) s.publishKeyForget.run(r.queue, k.key, r.id);
      return { duplicateOf: holder.id };
    }
  }
  try {
    s.insert.run(r.id, r.queue, r.name, r.payload, r.priority, r.lease ? 'active' : r.state, r.runAt, r.maxAttempts, r.maxStalls, r.timeoutMs, r.trace, r.group, r.expiresAt ?? null, r.createdAt, r.createdAt, r.cost ?? null, sortKeyOf(s, r), u, u === null ? null : r.uniqueUntil ?? null, r.concurrencyKey ?? null, r.requires ?? null, r.lease?.expiresAt ?? null, r.lease?.workerId ?? null);
  } catch (err) {
    // A refused row (jobsInsertEach goes on with the others) must not leave its key naming no
    // job. If the failure ended the transaction, the key went with it, and nothing may run outside it.
    if (k && db.isTransaction) s.publishKeyForget.run(r.queue, k.key, r.id);
    throw err;
  }
  counts.move(r.queue, null, r.lease ? 'active' : r.state);
  return null;
}

/**
 * Records `key` of `queue` for job `id` unless the queue holds it from at or after `since`: then
 * returns the id the key names. A record past the window is replaced by a new row (INSERT OR
 * REPLACE, not an update), so rowid order stays the order keys were recorded in, which is what
 * the expiry walks (publishKeysDelete).
 */
function claimKey(s: Writes['s'], queue: string, k: { key: string; since: number }, id: string, createdAt: number): string | null {
  if (s.publishKeyClaim.run(queue, k.key, id, createdAt).changes === 1) return null;
  const held = s.publishKeyGet.get(queue, k.key) as { job_id: string; created_at: number };
  if (held.created_at >= k.since) return held.job_id;
  s.publishKeyReplace.run(queue, k.key, id, createdAt);
  return null;
}

/** An add that stored its job. */
export const STORED: ItemOutcome = Object.freeze({ ok: true as const });

/** The outcome of a row storeRow did not store, or of one it stored (null). */
export function outcomeOf(named: string | Duplicate | null): ItemOutcome {
  if (named === null) return STORED;
  return typeof named === 'string' ? { ok: true, existing: named } : { ok: true, duplicateOf: named.duplicateOf };
}
