import type { ReapedJob, Store } from '../store/store.ts';
import type { EngineSettings } from './options.ts';

const BATCH = 1000;

/** Ends expired leases, and the leases of dead processes where the store keeps a registry. */
export async function reapLeases(store: Store, now: number): Promise<ReapedJob[]> {
  const reaped: ReapedJob[] = [];
  for (;;) {
    const batch = await store.jobsReapExpired({ now, limit: BATCH });
    reaped.push(...batch);
    if (batch.length < BATCH) break;
  }
  if (store.workersReapDead) reaped.push(...(await store.workersReapDead({ now, limit: 10 * BATCH })));
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

/**
 * Reaping (expired leases, dead processes) and, with `withCleanup`, retention. On a store
 * with leadership these run only in the leader, inside its fenced transaction; the caller
 * applies their effects on this process (aborting handlers, waking consumers) afterwards.
 */
export async function runLeaderDuties(
  store: Store,
  p: { leaderId: string | null; leaseMs: number; now: number; withCleanup: boolean; retention: EngineSettings['retention'] },
): Promise<{ led: boolean; reaped: ReapedJob[] }> {
  const duty = async (s: Store): Promise<ReapedJob[]> => {
    const reaped = await reapLeases(s, p.now);
    if (p.withCleanup) await deleteFinished(s, p.now, p.retention);
    return reaped;
  };
  if (!store.asLeader || p.leaderId === null) return { led: true, reaped: await duty(store) };
  const r = await store.asLeader('maintenance', p.leaderId, p.leaseMs, duty);
  return r.led ? { led: true, reaped: r.value } : { led: false, reaped: [] };
}

/** How often the leader may vacuum the hot table (it does only when dead rows piled up). */
const VACUUM_INTERVAL_MS = 5000;

/** The leader's table upkeep: at most every VACUUM_INTERVAL_MS, in the background, so it never holds up reaping. */
export class TableUpkeep {
  readonly #store: Store;
  readonly #onError: (err: unknown) => void;
  #running: Promise<unknown> | null = null;
  #lastAt = 0;

  constructor(store: Store, onError: (err: unknown) => void) {
    this.#store = store;
    this.#onError = onError;
  }

  maybeRun(now: number): void {
    if (!this.#store.tablesVacuum || this.#running || now - this.#lastAt < VACUUM_INTERVAL_MS) return;
    this.#lastAt = now;
    this.#running = this.#store
      .tablesVacuum()
      .catch(this.#onError)
      .finally(() => (this.#running = null));
  }

  /** Waits for a running upkeep (on close). */
  async settled(): Promise<void> {
    await this.#running;
  }
}
