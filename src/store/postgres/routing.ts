import { InvalidArgumentError } from '../../core/errors.ts';
import type { InsertReport, NewJobRow } from '../store.ts';
import type { PublishItem, PublishOutcome, RoutingRow } from '../routing-rows.ts';
import type { TxExecutor } from './pg-client.ts';
import { PgBounds } from './bounds.ts';
import type { PgInsertContext } from './inserts.ts';
import { hasFairRows, insertField, insertStatement } from './rows.ts';

/**
 * Topic routing on PostgreSQL (the store's routing methods delegate here). Bind, unbind and the
 * unrouted queue update the routing row; each publish reads it FOR SHARE before its inserts, in
 * one transaction, so a change of the routing waits for the publishes that read the old version
 * and every later publish reads the new one (and is told stale if it routed by the old).
 */

const sql = (s: string) => ({
  versionShared: `SELECT version FROM ${s}.topic_routing WHERE id = 1 FOR SHARE`,
  routing: `SELECT r.version, r.unrouted_queue, u.count AS unrouted,
      coalesce((SELECT json_agg(json_build_array(pattern, queue, created_at) ORDER BY pattern, queue) FROM ${s}.topic_bindings), '[]') AS bindings
    FROM ${s}.topic_routing r, ${s}.topic_unrouted u WHERE r.id = 1 AND u.id = 1`,
  lock: `SELECT version FROM ${s}.topic_routing WHERE id = 1 FOR UPDATE`,
  count: `SELECT count(*)::int AS n FROM ${s}.topic_bindings`,
  insert: `INSERT INTO ${s}.topic_bindings (pattern, queue, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,
  delete: `DELETE FROM ${s}.topic_bindings WHERE pattern = $1 AND queue = $2 RETURNING 1`,
  bump: `UPDATE ${s}.topic_routing SET version = version + 1 WHERE id = 1`,
  unroutedQueue: `UPDATE ${s}.topic_routing SET unrouted_queue = $1, version = version + 1 WHERE id = 1`,
  unrouted: `UPDATE ${s}.topic_unrouted SET count = count + $1 WHERE id = 1`,
});

export async function routingRead(ctx: PgInsertContext): Promise<RoutingRow> {
  const [r] = await ctx.run(() => ctx.db.q(sql(ctx.schema).routing), 'read the routing');
  const bindings = (r!.bindings as [string, string, number | string][]).map(([pattern, queue, at]) => ({ pattern, queue, createdAt: Number(at) }));
  return { version: Number(r!.version), bindings, unroutedQueue: (r!.unrouted_queue as string | null) ?? null, unrouted: Number(r!.unrouted) };
}

/** Runs `change` with the routing row locked; raises the version when it says it changed something. */
function change(ctx: PgInsertContext, doing: string, fn: (tx: TxExecutor) => Promise<boolean>): Promise<boolean> {
  const q = sql(ctx.schema);
  return ctx.run(() => ctx.transaction(async (tx) => {
    await tx.q(q.lock);
    const changed = await fn(tx);
    if (changed) await tx.q(q.bump);
    return changed;
  }), doing);
}

export function bindingPut(ctx: PgInsertContext, p: { pattern: string; queue: string; now: number; max: number }): Promise<boolean> {
  const q = sql(ctx.schema);
  return change(ctx, 'bind a topic pattern', async (tx) => {
    if ((await tx.q(q.insert, [p.pattern, p.queue, p.now])).length === 0) return false; // already there: never refused
    // Counted under the routing row's lock (concurrent binds never pass the bound together), after
    // the insert: a refusal throws and the transaction takes the insert back.
    const [n] = await tx.q(q.count);
    if (Number(n!.n) > p.max) throw new InvalidArgumentError('pattern', `the store already holds ${p.max} bindings (bindingsMax): unbind one, or raise the setting`);
    return true;
  });
}

export function bindingDelete(ctx: PgInsertContext, p: { pattern: string; queue: string }): Promise<boolean> {
  return change(ctx, 'unbind a topic pattern', async (tx) => (await tx.q(sql(ctx.schema).delete, [p.pattern, p.queue])).length > 0);
}

export async function unroutedQueueSet(ctx: PgInsertContext, queue: string | null): Promise<void> {
  await ctx.run(() => ctx.db.q(sql(ctx.schema).unroutedQueue, [queue]), 'set the unrouted queue');
}

/**
 * The publishes of a tick. Those without a bounded queue and routed by one version share one
 * statement (the common case: one round trip, as cheap as the adds of a tick); if it fails, each
 * is tried again alone, so one refused publish fails alone. A publish to a bounded queue has a
 * transaction of its own (the queues' advisory locks, taken in name order, held by it alone).
 */
export async function topicPublishEach(ctx: PgInsertContext, items: readonly PublishItem[]): Promise<PublishOutcome[]> {
  const outcomes = new Array<PublishOutcome>(items.length);
  const byVersion = new Map<number, number[]>();
  items.forEach((it, i) => {
    if (it.rows.some((r) => r.bound)) return;
    let group = byVersion.get(it.version);
    if (!group) byVersion.set(it.version, (group = []));
    group.push(i);
  });
  for (const [version, group] of byVersion) {
    if (group.length < 2) continue;
    try {
      const stored = await publishPlain(ctx, version, group.map((i) => items[i]!));
      for (const i of group) outcomes[i] = stored ? { status: 'stored' } : { status: 'stale' };
    } catch {
      // One of them is refused (or the connection failed): each alone tells which.
    }
  }
  for (let i = 0; i < items.length; i++) {
    if (outcomes[i] !== undefined) continue;
    const item = items[i]!;
    try {
      if (item.rows.some((r) => r.bound)) {
        outcomes[i] = (await ctx.run(() => ctx.transaction((tx) => publishIn(ctx, tx, [item])), 'publish', insertField))[0]!;
      } else {
        outcomes[i] = (await publishPlain(ctx, item.version, [item])) ? { status: 'stored' } : { status: 'stale' };
      }
    } catch (err) {
      outcomes[i] = { status: 'error', error: err as Error };
    }
  }
  return outcomes;
}

/** Publishes `items` (no bounded queue, all routed by `version`) in one statement; false: stale, nothing written. */
async function publishPlain(ctx: PgInsertContext, version: number, items: readonly PublishItem[]): Promise<boolean> {
  const rows = items.flatMap((it) => it.rows);
  const unrouted = items.filter((it) => it.unrouted).length;
  const [, params] = insertStatement(ctx.q, rows, ctx.notifyChannel);
  const text = hasFairRows(rows) ? ctx.q.publishFair : ctx.q.publish;
  const [r] = await ctx.run(() => ctx.db.q(text, [...params, version, unrouted]), 'publish', insertField);
  return Number(r!.version) === version;
}

/** Publishes `items` in `tx` (a transaction: bounded queues' locks): those routed by the current version are written, the others are stale. */
async function publishIn(ctx: PgInsertContext, tx: TxExecutor, items: readonly PublishItem[]): Promise<PublishOutcome[]> {
  const q = sql(ctx.schema);
  const [v] = await tx.q(q.versionShared);
  const version = Number(v!.version);
  const fresh = items.filter((it) => it.version === version);
  const rows: NewJobRow[] = fresh.flatMap((it) => it.rows);
  const report: InsertReport = { dropped: {} };
  if (rows.some((r) => r.bound)) {
    const run = (text: string, params: unknown[]) => tx.q(text, params);
    await new PgBounds(ctx.q, ctx.schema).insertMany(run, rows, async (batch) => void (await tx.q(...insertStatement(ctx.q, batch, ctx.notifyChannel))), report);
  } else if (rows.length > 0) {
    await tx.q(...insertStatement(ctx.q, rows, ctx.notifyChannel));
  }
  const unrouted = fresh.filter((it) => it.unrouted).length;
  if (unrouted > 0) await tx.q(q.unrouted, [unrouted]);
  const dropped = Object.keys(report.dropped).length > 0 ? report.dropped : undefined;
  return items.map((it): PublishOutcome => (it.version !== version ? { status: 'stale' } : dropped ? { status: 'stored', dropped } : { status: 'stored' }));
}
