import type { ConsumerAnnouncement, ReapedJob, Store, WorkerRegistration } from '../store.ts';
import type { Executor, TxExecutor } from './pg-client.ts';
import type { PgStatements } from './statements.ts';

/**
 * What many processes on one database need from the store: a registry of live processes
 * with heartbeats, fenced leadership for duties one process must do, and upkeep of the
 * hot table. Functions over the store's own executor (PgContext), so a leader's duty can
 * run them inside its transaction.
 */
export interface PgContext<S> {
  db: Executor;
  q: PgStatements;
  schema: string;
  run<T>(fn: () => Promise<T>, doing: string): Promise<T>;
  transaction<T>(fn: (tx: TxExecutor) => Promise<T>): Promise<T>;
  /** Ends the leases of locked `ids` as expired attempts. */
  reap(tx: TxExecutor, ids: string[], now: number): Promise<ReapedJob[]>;
  /** The store, with its queries running inside `tx`. */
  bound(tx: TxExecutor): S;
}

/** Dead row versions in `jobs` worth a vacuum: about a second of claims and acks at full speed. */
const VACUUM_MIN_DEAD_ROWS = 20_000;

export async function workerRegister(ctx: PgContext<Store>, w: WorkerRegistration, now: number, ttlMs: number): Promise<void> {
  await ctx.run(() => ctx.db.q(ctx.q.workerRegister, [w.id, w.host, w.pid, now, now + ttlMs, JSON.stringify(w.consumers ?? [])]), 'register this process');
}

export async function workerAnnounce(ctx: PgContext<Store>, id: string, consumers: readonly ConsumerAnnouncement[]): Promise<void> {
  await ctx.run(() => ctx.db.q(ctx.q.workerAnnounce, [id, JSON.stringify(consumers)]), 'announce this process\'s consumers');
}

/** The database server's clock, in epoch ms (fractional). */
export async function storeTime(ctx: PgContext<Store>): Promise<number> {
  const rows = await ctx.run(() => ctx.db.q(ctx.q.storeTime), 'read the database clock');
  return Number(rows[0]!.t);
}

export async function workerHeartbeat(ctx: PgContext<Store>, id: string, now: number, ttlMs: number): Promise<boolean> {
  const rows = await ctx.run(() => ctx.db.q(ctx.q.workerHeartbeat, [id, now, now + ttlMs]), 'send a heartbeat');
  return rows.length === 1;
}

export async function workerUnregister(ctx: PgContext<Store>, id: string): Promise<void> {
  await ctx.run(() => ctx.db.q(ctx.q.workerUnregister, [id]), 'unregister this process');
}

export async function workersReapDead(ctx: PgContext<Store>, p: { now: number; limit: number; self?: string | null | undefined }): Promise<ReapedJob[]> {
  const self = p.self ?? null;
  return ctx.run(
    () => ctx.transaction(async (tx) => {
      const dead = (await tx.q(ctx.q.deadWorkers, [p.now, self])).map((r) => r.id as string);
      if (dead.length === 0) return [];
      const reaped = await ctx.reap(tx, (await tx.q(ctx.q.lockOrphaned, [dead, p.limit])).map((r) => r.id as string), p.now);
      await tx.q(ctx.q.workersDeleteDead, [p.now, self]);
      return reaped;
    }),
    'release the leases of dead workers',
  );
}

/**
 * Runs `duty` as the leader `name`, or not at all. Leadership is a lease row
 * timed by the database's clock; the duty runs in a transaction that first
 * re-checks the lease under a shared row lock, and a takeover must update that
 * row, so a takeover waits for a running duty and a deposed leader's duty
 * cannot start: two processes never act as leader at once.
 */
export async function asLeader<T>(ctx: PgContext<Store>, name: string, holder: string, leaseMs: number, duty: (store: Store) => Promise<T>): Promise<{ led: true; value: T } | { led: false }> {
  const won = await ctx.run(() => ctx.db.q(ctx.q.leaderAcquire, [name, holder, leaseMs]), 'renew leadership');
  if (won.length === 0) return { led: false };
  const epoch = won[0]!.epoch as number;
  return ctx.run(
    () => ctx.transaction(async (tx) => {
      const held = await tx.q(ctx.q.leaderCheck, [name, holder, epoch]);
      if (held.length === 0) return { led: false as const };
      return { led: true as const, value: await duty(ctx.bound(tx)) };
    }),
    'run leader duties',
  );
}

/**
 * Vacuums the live `jobs` table when claims and acks have left many dead rows in it.
 * Every claim and ack leaves a dead row version, and dead entries at the head of the
 * ready index make each claim scan further; autovacuum checks only once a minute,
 * too rarely for a table that turns over thousands of rows a second. Runs outside any
 * transaction (VACUUM cannot run in one) and never blocks other work.
 */
export async function tablesVacuum(ctx: PgContext<Store>, minDeadRows = VACUUM_MIN_DEAD_ROWS): Promise<boolean> {
  // The count deltas, appended by every change and deleted by each fold, are read whole by stats: keep them small too.
  const [deltas] = await ctx.run(() => ctx.db.q(ctx.q.deltaDeadTuples), 'read table statistics');
  if (deltas && (deltas.dead as number) >= minDeadRows) await ctx.run(() => ctx.db.q(`VACUUM ${ctx.schema}.queue_count_deltas`), 'vacuum the count deltas');
  const [row] = await ctx.run(() => ctx.db.q(ctx.q.deadTuples), 'read table statistics');
  if (!row || (row.dead as number) < minDeadRows) return false;
  await ctx.run(() => ctx.db.q(`VACUUM (ANALYZE) ${ctx.schema}.jobs`), 'vacuum the jobs table');
  return true;
}

/** Gives up leadership `name` at once, so another process takes over without waiting for the lease. */
export async function leaderResign(ctx: PgContext<Store>, name: string, holder: string): Promise<void> {
  await ctx.run(() => ctx.db.q(ctx.q.leaderResign, [name, holder]), 'resign leadership');
}
