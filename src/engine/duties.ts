import type { ReapedJob, Store } from '../store/store.ts';
import type { EngineSettings } from './options.ts';

const BATCH = 1000;

/**
 * Ends expired leases, and the leases of dead processes where the store keeps a registry
 * (never those of `self`, the process running this, which is alive whatever its registration says).
 */
export async function reapLeases(store: Store, now: number, self: string | null = null): Promise<ReapedJob[]> {
  const reaped: ReapedJob[] = [];
  for (;;) {
    const batch = await store.jobsReapExpired({ now, limit: BATCH });
    reaped.push(...batch);
    if (batch.length < BATCH) break;
  }
  if (store.workersReapDead) reaped.push(...(await store.workersReapDead({ now, limit: 10 * BATCH, self })));
  return reaped;
}

/** Deletes finished jobs past their retention, in bounded batches; returns how many. */
export async function deleteFinished(store: Store, now: number, retention: EngineSettings['retention']): Promise<number> {
  const before = { completed: now - retention.completed, dead: now - retention.dead, cancelled: now - retention.cancelled };
  let total = 0;
  for (;;) {
    const n = await store.jobsDeleteFinished({ before, limit: BATCH });
    total += n;
    if (n < BATCH) return total;
  }
}

/** Jobs deleted per statement by purge: bounded, so a huge queue does not make one huge transaction. */
const PURGE_BATCH = 10 * BATCH;

/** Deletes every waiting job of a queue, a bounded batch at a time; returns how many. */
export async function purgeQueue(store: Store, queue: string): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await store.jobsPurge({ queue, limit: PURGE_BATCH });
    total += n;
    if (n < PURGE_BATCH) return total;
  }
}
