import type { Duplicate, InsertExisting, InsertReport, ItemOutcome, NewJobRow } from '../store.ts';
import { callerTransaction } from './pg-client.ts';
import { translatePgError } from './pg-errors.ts';
import { insertKeyed, resultRows } from './publish-keys.ts';
import { insertField, insertStatement, STORED } from './rows.ts';
import { boundedQueues, PgBounds, type Run as BoundRun } from './bounds.ts';
import type { PgLeaseContext } from './leases.ts';

/** What the insert paths need beyond {@link PgLeaseContext}: a run that names the field a refusal blames. */
export interface PgInsertContext extends PgLeaseContext {
  run<T>(fn: () => Promise<T>, doing: string, field?: string | ((sqlstate: string) => string)): Promise<T>;
}

/** The insert paths of the PostgreSQL store (its jobsInsert* methods delegate here): plain, keyed, bounded, and in a caller's transaction. */

/** Bounded queues' inserts (bounds.ts). */
function bounds(ctx: PgInsertContext): PgBounds {
  return new PgBounds(ctx.q, ctx.schema);
}

/** Inserts `rows` through `run`, in a transaction (plain, or keyed when a row has an idempotency or unique key). */
async function insertWith(ctx: PgInsertContext, run: BoundRun, rows: readonly NewJobRow[], channel: string | null): Promise<void | InsertExisting> {
  if (!hasKeys(rows)) {
    await run(...insertStatement(ctx.q, rows, channel));
    return;
  }
  return insertKeyed(ctx.q, run, rows, channel, true);
}

export async function jobsInsertMany(ctx: PgInsertContext, rows: readonly NewJobRow[], report?: InsertReport): Promise<void | InsertExisting> {
  if (rows.length === 0) return;
  const channel = ctx.notifyChannel;
  if (rows.some((r) => r.bound)) {
    // One transaction: the queues' locks, the insert and the counts after it; a refusal rolls it all back.
    return ctx.run(() => ctx.transaction((tx) => {
      const run: BoundRun = (text, params) => tx.q(text, params);
      return bounds(ctx).insertMany(run, rows, (batch) => insertWith(ctx, run, batch, channel), report);
    }), 'add jobs', insertField);
  }
  if (!hasKeys(rows)) {
    await ctx.run(() => ctx.db.q(...insertStatement(ctx.q, rows, channel)), 'add jobs', insertField);
    return;
  }
  return ctx.run(() => insertKeyed(ctx.q, (text, params) => ctx.db.q(text, params), rows, channel), 'add jobs', insertField);
}

export async function jobsInsertEach(ctx: PgInsertContext, rows: readonly NewJobRow[]): Promise<ItemOutcome[]> {
  if (rows.length === 0) return [];
  if (rows.some((r) => r.bound)) return insertEachBounded(ctx, rows);
  return insertEachPlain(ctx, rows);
}

/**
 * jobsInsertEach with rows of bounded queues: the other rows as usual, then each bounded queue's
 * rows in a transaction of their own under its lock (bounds.ts). A bounded queue's transaction
 * that fails as a whole fails its rows alone.
 */
async function insertEachBounded(ctx: PgInsertContext, rows: readonly NewJobRow[]): Promise<ItemOutcome[]> {
  const outcomes = new Array<ItemOutcome>(rows.length);
  const plain = rows.flatMap((r, i) => (r.bound ? [] : [i]));
  if (plain.length > 0) (await insertEachPlain(ctx, plain.map((i) => rows[i]!))).forEach((o, j) => (outcomes[plain[j]!] = o));
  const channel = ctx.notifyChannel;
  for (const [queue, bound] of boundedQueues(rows)) {
    const mine = rows.flatMap((r, i) => (r.bound && r.queue === queue ? [i] : []));
    const batch = mine.map((i) => rows[i]!);
    let results: ItemOutcome[];
    try {
      results = await ctx.run(() => ctx.transaction((tx) => {
        const run: BoundRun = (text, params) => tx.q(text, params);
        return bounds(ctx).insertEach(run, queue, bound, batch, (one) => insertWith(ctx, run, one, channel), (fn) => tx.savepoint(() => fn()),
          (r, err) => translatePgError(err, `add job ${r.id} to ${r.queue}`, insertField) as Error);
      }), 'add jobs', insertField);
    } catch (err) {
      results = batch.map(() => ({ ok: false, error: err as Error }));
    }
    results.forEach((o, j) => (outcomes[mine[j]!] = o));
  }
  return outcomes;
}

async function insertEachPlain(ctx: PgInsertContext, rows: readonly NewJobRow[]): Promise<ItemOutcome[]> {
  const channel = ctx.notifyChannel;
  /** Rows not stored because a key named another job: that job's id, or the holder of its unique key (from the attempt that committed). */
  const named = new Map<NewJobRow, string | Duplicate>();
  const insert = (batch: readonly NewJobRow[]) => {
    if (!hasKeys(batch)) return ctx.db.q(...insertStatement(ctx.q, batch, channel));
    return (async () => {
      for (const r of batch) named.delete(r);
      const existing = await insertKeyed(ctx.q, (text, params) => ctx.db.q(text, params), batch, channel);
      batch.forEach((r, i) => existing[i] && named.set(r, existing[i]));
      return [];
    })();
  };
  const { refused } = await ctx.applyEach(rows, insert, 'add jobs', insertField, (r) => `add job ${r.id} to ${r.queue}`);
  return rows.map((r, i): ItemOutcome => {
    const error = refused?.get(i);
    if (error) return { ok: false, error };
    const existing = named.get(r);
    if (existing === undefined) return STORED;
    return typeof existing === 'string' ? { ok: true, existing } : { ok: true, duplicateOf: existing.duplicateOf };
  });
}

/**
 * Runs the insert inside a caller's transaction: the jobs exist if and only if it commits.
 * Takes a postgres.js transaction (`sql.begin(async (tx) => …)`) or a `pg` client inside BEGIN.
 * The NOTIFY that wakes consumers is part of the same transaction, so it fires on commit only.
 */
export async function jobsInsertManyInTransaction(ctx: PgInsertContext, tx: unknown, rows: readonly NewJobRow[], report?: InsertReport): Promise<void | InsertExisting> {
  if (rows.length === 0) return;
  const run = callerTransaction(tx);
  const channel = ctx.notifyChannel;
  if (rows.some((r) => r.bound)) {
    // The queues' locks are held until the caller's transaction ends. The bound is checked before
    // the insert: the caller might commit after a refusal, which must leave nothing over the bound.
    const inTx: BoundRun = async (text, params) => resultRows(await run(text, params));
    return ctx.run(() => bounds(ctx).insertMany(inTx, rows, (batch) => insertWith(ctx, inTx, batch, channel), report, true), 'add jobs in your transaction', insertField);
  }
  if (!hasKeys(rows)) {
    await ctx.run(() => run(...insertStatement(ctx.q, rows, channel)), 'add jobs in your transaction', insertField);
    return;
  }
  // The keys are recorded in the caller's transaction too: a rollback leaves none behind.
  return ctx.run(() => insertKeyed(ctx.q, async (text, params) => resultRows(await run(text, params)), rows, channel, true), 'add jobs in your transaction', insertField);
}


/** Whether an insert of `rows` needs the keyed statement: a row has an idempotency key or a unique key. */
function hasKeys(rows: readonly NewJobRow[]): boolean {
  return rows.some((r) => r.idempotency || r.uniqueKey);
}

/**
 * jobsInsertMany's insert inside a transaction of the store's own (a schedule's firing, which
 * adds its jobs in the transaction of its compare-and-set): bounded queues locked as there.
 */
export async function insertManyInTx(ctx: PgInsertContext, tx: { q(text: string, params?: readonly unknown[]): Promise<unknown> }, rows: readonly NewJobRow[]): Promise<void> {
  if (rows.length === 0) return;
  const run: BoundRun = async (text, params) => resultRows(await tx.q(text, params));
  const channel = ctx.notifyChannel;
  if (rows.some((r) => r.bound)) await bounds(ctx).insertMany(run, rows, (batch) => insertWith(ctx, run, batch, channel), undefined);
  else await insertWith(ctx, run, rows, channel);
}
