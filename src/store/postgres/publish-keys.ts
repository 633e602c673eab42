import type { NewJobRow } from '../store.ts';
import { insertParams } from './rows.ts';
import type { PgStatements } from './statements.ts';

/**
 * Idempotent adds on PostgreSQL: the keys of a batch are recorded in `publish_keys` in the
 * insert's transaction, before it, so a key names one job however many adds race with it, and a
 * rolled-back transaction leaves no key behind.
 */

/** Runs one statement in the open transaction, giving its rows. */
type Run = (text: string, params: unknown[]) => Promise<readonly Record<string, unknown>[]>;

/** Inserts the rows of `rows` whose keys name no other job; returns, per row, the id of the job its key already names, or null. */
export async function insertKeyed(q: PgStatements, run: Run, rows: readonly NewJobRow[], channel: string | null): Promise<(string | null)[]> {
  const { toStore, existing } = await claimPublishKeys(q, run, rows);
  if (toStore.length > 0) await run(q.insert, insertParams(toStore, channel));
  return existing;
}

/** The rows of a caller's query result: postgres.js gives an array, `pg` an object with `rows`. */
export function resultRows(result: unknown): readonly Record<string, unknown>[] {
  if (Array.isArray(result)) return result as Record<string, unknown>[];
  return ((result as { rows?: Record<string, unknown>[] } | null)?.rows) ?? [];
}


/**
 * Records the idempotency keys of `rows` (those that have one) in the open transaction `run`
 * queries in, before their insert: a record past its window is replaced; of concurrent adds
 * with one key the first to record it wins (ON CONFLICT DO NOTHING waits for the other's
 * transaction), as does the first row with a key repeated in `rows`. Returns the rows to store
 * and, per row, the id of the job its key already names (not to be stored), or null.
 */
async function claimPublishKeys(q: PgStatements, run: Run, rows: readonly NewJobRow[]): Promise<{ toStore: NewJobRow[]; existing: (string | null)[] }> {
  const keyed = rows.filter((r) => r.idempotency);
  const queues = keyed.map((r) => r.queue);
  const keys = keyed.map((r) => r.idempotency!.key);
  await run(q.publishKeysExpire, [queues, keys, keyed.map((r) => r.idempotency!.since)]);
  await run(q.publishKeysClaim, [queues, keys, keyed.map((r) => r.id), keyed.map((r) => r.createdAt)]);
  const held = new Map<string, string>();
  for (const r of await run(q.publishKeysRead, [queues, keys])) held.set(`${r.queue as string}\0${r.key as string}`, r.job_id as string);
  const existing = rows.map((r) => {
    if (!r.idempotency) return null;
    const id = held.get(`${r.queue}\0${r.idempotency.key}`);
    return id === undefined || id === r.id ? null : id;
  });
  return { toStore: rows.filter((_, i) => existing[i] === null), existing };
}

