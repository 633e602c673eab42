import type { CountsByQueue } from './store.ts';

/**
 * What both drivers share for the process snapshots (Store.processSnapshotPut and the rest):
 * summing counts field by field, for the retired sums.
 */

/** Adds `from` into `into`, per queue and field; returns the queues it touched. */
export function addCounts(into: CountsByQueue, from: CountsByQueue): Set<string> {
  const touched = new Set<string>();
  for (const [queue, fields] of Object.entries(from)) {
    const sum = (into[queue] ??= {});
    for (const [field, n] of Object.entries(fields)) if (typeof n === 'number' && Number.isFinite(n)) sum[field] = (sum[field] ?? 0) + n;
    touched.add(queue);
  }
  return touched;
}

/** An object stored as JSON text (a process's counts by queue, or one queue's retired sums); a value that does not parse reads as empty. */
export function parseObject<T extends object>(text: string): T {
  try {
    const v = JSON.parse(text) as unknown;
    return (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {}) as T;
  } catch {
    return {} as T;
  }
}
