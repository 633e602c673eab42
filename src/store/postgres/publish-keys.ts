import type { Duplicate, NewJobRow } from '../store.ts';
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

/** How often a keyed insert runs again after it lost a race for a unique key (each time, the winner is seen). */
const UNIQUE_RACE_TRIES = 5;

/**
 * Inserts the rows of `rows` whose idempotency keys name no other job and whose unique keys no
 * live job holds (and those without keys); returns, per row, the id of the job its idempotency
 * key already names, `{ duplicateOf }` the live job holding its unique key (the row not stored),
 * or null. A later row of `rows` with the unique key of an earlier one is not sent: it is a
 * duplicate of whatever the earlier one became. An insert that loses a race for a unique key (a
 * concurrent add committed it after the statement's snapshot: unique_violation on jobs_unique)
 * runs again, in a savepoint when `inTransaction` (a transaction aborted by the error would be lost).
 */
export async function insertKeyed(q: PgStatements, run: Run, rows: readonly NewJobRow[], channel: string | null, inTransaction = false): Promise<(string | Duplicate | null)[]> {
  // Later rows with a unique key an earlier row of the batch has: index of that earlier row.
  const firstOf = new Map<string, number>();
  const sameAs = new Map<number, number>();
  rows.forEach((r, i) => {
    if (!r.uniqueKey) return;
    const k = `${r.queue}\0${r.uniqueKey}`;
    const first = firstOf.get(k);
    if (first === undefined) firstOf.set(k, i);
    else sameAs.set(i, first);
  });
  const sent = sameAs.size === 0 ? rows : rows.filter((_, i) => !sameAs.has(i));
  const unique = sent.some((r) => r.uniqueKey);
  let results: (string | Duplicate | null)[] | undefined;
  for (let attempt = 1; results === undefined; attempt++) {
    if (unique && inTransaction) await run('SAVEPOINT spool_unique_insert', []);
    try {
      results = await insertOnce(q, run, sent, channel);
      if (unique && inTransaction) await run('RELEASE SAVEPOINT spool_unique_insert', []);
    } catch (err) {
      if (!unique || !lostUniqueRace(err) || attempt >= UNIQUE_RACE_TRIES) throw err;
      if (inTransaction) await run('ROLLBACK TO SAVEPOINT spool_unique_insert', []);
    }
  }
  if (sameAs.size === 0) return results;
  const out: (string | Duplicate | null)[] = [];
  // Rows whose earlier namesake turned out a replay (its idempotency key named an older job,
  // which need not hold the unique key): sent again on their own, once the others are in.
  const again: number[] = [];
  let j = 0;
  for (let i = 0; i < rows.length; i++) {
    const first = sameAs.get(i);
    if (first === undefined) {
      out.push(results[j++]!);
      continue;
    }
    const became = out[first];
    if (typeof became === 'string' || became === undefined) {
      again.push(i);
      out.push(null);
      continue;
    }
    out.push({ duplicateOf: became === null ? rows[first]!.id : became.duplicateOf });
  }
  if (again.length > 0) {
    const later = await insertKeyed(q, run, again.map((i) => rows[i]!), channel, inTransaction);
    again.forEach((i, k) => (out[i] = later[k]!));
  }
  return out;
}

/** SQLSTATE 23505, unique_violation (a PostgreSQL code, not one of Spool's). */
const UNIQUE_VIOLATION = '23505';

/** Whether `err` is a unique_violation of jobs_unique (pg: `constraint`; postgres.js: `constraint_name`). */
function lostUniqueRace(err: unknown): boolean {
  const e = err as { code?: unknown; constraint?: unknown; constraint_name?: unknown } | null;
  return e?.code === UNIQUE_VIOLATION && (e.constraint ?? e.constraint_name) === 'jobs_unique';
}

async function insertOnce(q: PgStatements, run: Run, rows: readonly NewJobRow[], channel: string | null): Promise<(string | Duplicate | null)[]> {
  const params = insertParams(rows, channel);
  params.push(rows.map((r) => r.idempotency?.key ?? null), rows.map((r) => r.idempotency?.since ?? null), sharedWindow(rows), rows.map((r) => r.uniqueKey ?? null), rows.map((r) => (r.uniqueKey ? r.uniqueUntil ?? null : null)));
  // Keys the statement names no job for are this insert's: the first row with the key was stored.
  const named = new Map<string, string>();
  const holders = new Map<number, string>();
  for (const r of await run(hasFairRows(rows) ? q.insertKeyedFair : q.insertKeyed, params)) {
    if (r.n !== null && r.n !== undefined) holders.set(Number(r.n) - 1, r.job_id as string);
    else named.set(`${r.queue as string}\0${r.key as string}`, r.job_id as string);
  }
  return rows.map((r, i) => {
    const holder = holders.get(i);
    if (holder !== undefined) return { duplicateOf: holder };
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
