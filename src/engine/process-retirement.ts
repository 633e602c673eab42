import { CLUSTER } from './cluster-view.ts';
import type { Service } from './services.ts';

/**
 * Retires the snapshots of processes silent for {@link CLUSTER.retireAfterMs} (two model
 * windows): their counts move to the retired sums in the transaction that deletes their rows, so
 * the cluster's totals never go down and the table holds about one row per running process. A
 * process that was only paused publishes again, counting from where its retired row stopped.
 */
export const processRetirement: Service = {
  name: 'process-retirement',
  scope: 'leader',
  everyTicks: 10,
  run: async (store, { now }) => void (await store.processSnapshotsRetire?.({ before: now - CLUSTER.retireAfterMs })),
};
