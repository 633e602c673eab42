import type { JobState, QueueStats } from '../../core/job.ts';
import { jobOrderOf, resolveQueueConfig, sameJobOrder, type JobOrder, type QueueConfig } from '../../core/queue-config.ts';
import type { QueueDeleteParams, QueueDeleteResult, Store, StoredQueue } from '../store.ts';
import type { PgContext } from './cluster.ts';
import { statsFromRows, toStoredQueue, type QueueRow } from './rows.ts';
import { unservableSets } from '../queue-stats.ts';

/** Queues for the PostgreSQL store (its methods delegate here): stats, settings, pause, delete. */

export async function queueStats(ctx: PgContext<Store>, queue: string | null, now: number): Promise<QueueStats[]> {
  const stats = statsFromRows(await ctx.run(() => ctx.db.q(ctx.q.stats, [queue]), 'read queue stats'), queue, now);
  await countUnservable(ctx, stats, queue, now);
  return stats;
}

/**
 * QueueStats.unservable: the distinct required tag sets among the ready jobs (one index seek
 * each), and for those no live process's consumers of the queue cover, their ready jobs counted.
 */
async function countUnservable(ctx: PgContext<Store>, stats: QueueStats[], queue: string | null, now: number): Promise<void> {
  const sets = (await ctx.run(() => ctx.db.q(ctx.q.requiresSets, [queue]), 'read queue stats')) as unknown as { queue: string; requires: string }[];
  if (sets.length === 0) return;
  const consumers = (await ctx.run(() => ctx.db.q(ctx.q.liveConsumers, [now]), 'read queue stats')).map((r) => r.consumers);
  for (const u of unservableSets(sets, consumers)) {
    const [row] = await ctx.run(() => ctx.db.q(ctx.q.requiresCount, [u.queue, u.requires]), 'read queue stats');
    const entry = stats.find((s) => s.queue === u.queue);
    if (entry) entry.unservable += (row as { n: number }).n;
  }
}

/**
 * Folds the count deltas the triggers wrote into queue_counts, in a transaction (a savepoint
 * in the leader's): the fold, then the rows it left at 0.
 */
export async function countsRollup(ctx: PgContext<Store>): Promise<void> {
  await ctx.run(
    () => ctx.transaction(async (tx) => {
      await tx.q(ctx.q.countsRollup);
      await tx.q(ctx.q.countsDropZero);
    }),
    'fold job count deltas',
  );
}

/**
 * Stores a queue's settings. When its order changes (its policy, or the parameter of it), the
 * same transaction gives the queue's live jobs the keys the new order gives (see rekey); the
 * queue's row is locked first, so two changes of one queue take turns.
 */
export async function queueUpsert(ctx: PgContext<Store>, name: string, config: QueueConfig, now: number): Promise<void> {
  await ctx.run(
    () => ctx.transaction(async (tx) => {
      const stored = await tx.q(ctx.q.queueConfigLock, [name]);
      const before = stored[0] ? jobOrderOf(resolveQueueConfig(stored[0].config)) : null;
      const after = jobOrderOf(config);
      if (!sameJobOrder(before, after)) await rekey(tx, ctx.q, name, after);
      await tx.q(ctx.q.queueUpsert, [name, JSON.stringify(config), now]);
    }),
    'save queue settings',
  );
}

type Tx = { q(text: string, params?: unknown[]): Promise<readonly Record<string, unknown>[]> };

async function rekey(tx: Tx, q: PgContext<Store>['q'], queue: string, order: JobOrder | null): Promise<void> {
  if (order === null) await tx.q(q.rekeyNone, [queue]);
  else if (order.policy === 'priority') await tx.q(q.rekeyPriority, [queue, order.agingMs]);
  else if (order.policy === 'sjf') await tx.q(q.rekeySjf, [queue, order.costFactor]);
  else {
    await tx.q(q.rekeyFair, [queue, JSON.stringify(order.weights)]);
    await tx.q(q.fairTagsReset, [queue]);
    await tx.q(q.fairTagsFromJobs, [queue]);
  }
}

export async function queueGet(ctx: PgContext<Store>, name: string): Promise<StoredQueue | null> {
  const rows = await ctx.run(() => ctx.db.q(ctx.q.queueGet, [name]), 'read queue settings');
  return rows[0] ? toStoredQueue(rows[0] as unknown as QueueRow) : null;
}

export async function queueList(ctx: PgContext<Store>): Promise<StoredQueue[]> {
  const rows = await ctx.run(() => ctx.db.q(ctx.q.queueList, []), 'list queues');
  return (rows as unknown as QueueRow[]).map(toStoredQueue);
}

export async function queueSetPaused(ctx: PgContext<Store>, name: string, paused: boolean, now: number): Promise<void> {
  await ctx.run(() => ctx.db.q(ctx.q.queuePause, [name, paused, now]), 'pause or resume a queue');
}

export async function queueDelete(ctx: PgContext<Store>, p: QueueDeleteParams): Promise<QueueDeleteResult> {
  return ctx.run(
    () => ctx.transaction(async (tx): Promise<QueueDeleteResult> => {
      const row = await tx.q(ctx.q.queueLock, [p.name]);
      const active = (await tx.q(ctx.q.queueActive, [p.name]))[0]!.n as number;
      if (active > 0 && !p.force) return { found: true, deleted: false, activeJobs: active, jobsDeleted: 0, leases: [] };
      const live = (await tx.q(ctx.q.queueDeleteLive, [p.name, p.force, p.limit])) as unknown as { id: string; state: JobState; token: number }[];
      const finished = live.length < p.limit ? (await tx.q(ctx.q.queueDeleteFinished, [p.name, p.limit - live.length])).count : 0;
      const remaining = (await tx.q(ctx.q.queueHasJobs, [p.name]))[0]!.remaining === true;
      if (!remaining && row.length > 0) await tx.q(ctx.q.queueDeleteRow, [p.name]);
      if (!remaining) await tx.q(ctx.q.publishKeysDeleteQueue, [p.name]); // a queue made again later holds none of its old keys
      if (!remaining) await tx.q(ctx.q.fairTagsReset, [p.name]); // nor its fair tags and learned run times
      if (!remaining) await tx.q(ctx.q.estimatesDeleteQueue, [p.name]);
      const found = row.length > 0 || live.length + finished > 0;
      const leases = live.filter((r) => r.state === 'active').map((r) => ({ jobId: r.id, token: r.token }));
      return { found, deleted: found && !remaining, activeJobs: leases.length, jobsDeleted: live.length + finished, leases };
    }),
    `delete queue ${p.name}`,
  );
}
