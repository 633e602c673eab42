/** Process snapshots as the store keeps them (the Store's snapshot methods use these; see store.ts and engine/cluster-view.ts). */

/** Cumulative counters per queue (field name → value), as a process published them; the store sums them field by field, knowing no field. */
export type CountsByQueue = Record<string, Record<string, number>>;

/** One process's snapshot of itself, for the cluster-wide model. */
export interface ProcessSnapshot {
  id: string;
  host: string;
  pid: number;
  /** When it was published (the publishing process's clock, Unix ms). */
  at: number;
  /** Per queue, what the process counted since it started: only ever grows while it runs. */
  counts: CountsByQueue;
  /** JSON text the store keeps as it is: what the process holds now (slots, consumers). */
  live: string;
}

/** What processSnapshotsRead returns: the snapshots, and the sums of those retired. */
export interface ProcessSnapshots {
  processes: ProcessSnapshot[];
  retired: CountsByQueue;
}
