import type { NewJobRow } from '../store.ts';
import { hasFairRows, insertParams } from './rows.ts';
import type { PgStatements } from './statements.ts';

/**
 * Idempotent adds on PostgreSQL: the keys of a batch are recorded in `publish_keys` by the
 * statement that inserts its jobs (`insertKeyed`), so a batch costs one round trip, as one
 * without keys does; a key names one job however many adds race with it, and a rolled-back
 * transaction (the caller's) leaves no key behind.
 */

/** Runs one statement (alone, or in the caller's open transaction), giving its rows. */
type Run = (text: string, params: unknown[]) => Promise<readonly Record<string, unknown>[]>;

/**
 * Inserts the rows of `rows` whose keys name no other job (and those without a key); returns,
 * per row, the id of the job its key already names (the row not stored), or null.
 */
export async function insertKeyed(q: PgStatements, run: Run, rows: readonly NewJobRow[], channel: string | null): Promise<(string | null)[]> {
  const params = insertParams(rows, channel);
  params.push(rows.map((r) => r.idempotency?.key ?? null), rows.map((r) => r.idempotency?.since ?? null), sharedWindow(rows));
  // Keys the statement names no job for are this insert's: the first row with the key was stored.
  const named = new Map<string, string>();
  for (const r of await run(hasFairRows(rows) ? q.insertKeyedFair : q.insertKeyed, params)) named.set(`${r.queue as string}\0${r.key as string}`, r.job_id as string);
  return rows.map((r) => {
    if (!r.idempotency) return null;
    const k = `${r.queue}\0${r.idempotency.key}`;
    const id = named.get(k);
    if (id !== undefined) return id;
    named.set(k, r.id);
    return null;
  });
}

/** The window (created_at - since) of the keyed rows, when they all have the same one, else null. */
function sharedWindow(rows: readonly NewJobRow[]): number | null {
  let w: number | null = null;
  for (const r of rows) {
    if (!r.idempotency) continue;
    const own = r.createdAt - r.idempotency.since;
    if (w === null) w = own;
    else if (own !== w) return null;
  }
  return w;
}

/** The rows of a caller's query result: postgres.js gives an array, `pg` an object with `rows`. */
export function resultRows(result: unknown): readonly Record<string, unknown>[] {
  if (Array.isArray(result)) return result as Record<string, unknown>[];
  return ((result as { rows?: Record<string, unknown>[] } | null)?.rows) ?? [];
}
