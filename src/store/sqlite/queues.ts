import type { JobState, QueueStats } from '../../core/job.ts';
import type { QueueDeleteParams, QueueDeleteResult, StoredQueue } from '../store.ts';
import { QueueStatsBuilder, unservableSets } from '../queue-stats.ts';
import type { prepareStatements } from './statements.ts';
import type { CountLedger } from './count-ledger.ts';

/**
 * Queues for the SQLite store (its methods delegate here): stats and settings are read on
 * this thread; a queue's delete runs inside the group commit's transaction.
 */

type Statements = ReturnType<typeof prepareStatements>;

interface QueueRow {
  name: string;
  config: string;
  paused: number;
  created_at: number;
  updated_at: number;
}

function toStoredQueue(row: QueueRow): StoredQueue {
  return { name: row.name, config: JSON.parse(row.config), paused: row.paused === 1, createdAt: row.created_at, updatedAt: row.updated_at };
}

export function queueStats(s: Statements, queue: string | null, now: number): QueueStats[] {
  const stats = new QueueStatsBuilder(now);
  const queues = (queue === null ? s.queueList.all() : s.queueGet.all(queue)) as unknown as QueueRow[];
  for (const q of queues) stats.paused(q.name, q.paused === 1);
  const counts = (queue === null ? s.countsAll.all() : s.countsOne.all(queue)) as { queue: string; state: JobState; n: number }[];
  for (const c of counts) stats.count(c.queue, c.state, c.n);
  const oldest = (queue === null ? s.oldestAll.all() : s.oldestOne.all(queue)) as { queue: string; at: number | null }[];
  for (const o of oldest) stats.oldestReady(o.queue, o.at);
  // Ready jobs no live worker can take: the sets of required tags no live consumer covers, each counted.
  const sets = (queue === null ? s.requiresSetsAll.all() : s.requiresSetsOne.all(queue)) as { queue: string; requires: string }[];
  const consumers = sets.length === 0 ? [] : (s.liveConsumers.all(now) as { consumers: string }[]).map((r) => r.consumers);
  for (const u of unservableSets(sets, consumers)) stats.unservable(u.queue, (s.requiresCount.get(u.queue, u.requires) as { n: number }).n);
  return stats.build(queue);
}

export function queueGet(s: Statements, name: string): StoredQueue | null {
  const row = s.queueGet.get(name) as unknown as QueueRow | undefined;
  return row ? toStoredQueue(row) : null;
}

export function queueList(s: Statements): StoredQueue[] {
  return (s.queueList.all() as unknown as QueueRow[]).map(toStoredQueue);
}

/** Deletes a queue's jobs (up to `p.limit`), and its row once it has none; run inside the group commit. */
export function queueDelete(s: Statements, counts: CountLedger, p: QueueDeleteParams): QueueDeleteResult {
  const row = s.queueGet.get(p.name);
  const active = (s.queueActive.get(p.name) as { n: number }).n;
  if (active > 0 && !p.force) return { found: true, deleted: false, activeJobs: active, jobsDeleted: 0, leases: [] };
  const gone = s.queueDeleteJobs.all(p.name, p.force ? 1 : 0, p.limit) as { id: string; state: JobState; token: number }[];
  for (const r of gone) counts.move(p.name, r.state, null);
  const remaining = (s.queueHasJobs.get(p.name) as { n: number }).n === 1;
  if (!remaining && row !== undefined) s.queueDeleteRow.run(p.name);
  if (!remaining) s.publishKeysDeleteQueue.run(p.name); // a queue made again later holds none of its old keys
  if (!remaining) s.fairTagsReset.run(p.name); // nor its fair tags and learned run times
  if (!remaining) s.estimatesDeleteQueue.run(p.name);
  if (!remaining) counts.forgetQueue(p.name, () => s.queueCountsDelete.run(p.name)); // a deleted queue leaves no rows behind
  const found = row !== undefined || gone.length > 0;
  const leases = gone.filter((r) => r.state === 'active').map((r) => ({ jobId: r.id, token: r.token }));
  return { found, deleted: found && !remaining, activeJobs: leases.length, jobsDeleted: gone.length, leases };
}
