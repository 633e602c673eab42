/**
 * What both drivers share about flows without SQL (docs/flows.md; the store's half is
 * flow-store.ts, the rule core/flow.ts).
 */

/**
 * Whether the sort key of a job of a queue with these stored settings is its run time plus a
 * term (policies `priority` and `sjf`, see docs/scheduling.md): a waiting parent, stored at
 * FLOW_WAIT_AT, gets the key it would have had, had it been added now, when it is made ready.
 * A fair queue's key is a tag issued at the add, whatever the run time; fifo has none.
 */
export function keyFollowsRunAt(config: unknown): boolean {
  const policy = typeof config === 'object' && config !== null ? (config as { policy?: unknown }).policy : undefined;
  return policy === 'priority' || policy === 'sjf';
}

/** A flow's children counted by the store without reading them whole: whether the parent still waits, how many are live (scheduled, ready, active), how many failed (dead, cancelled, gone). */
export interface FlowTally {
  waiting: number;
  live: number;
  failed: number;
}

/**
 * Whether a flow must be read whole to be settled: not while its parent waits and some child is
 * live, unless (rule `fail`) one has failed. Each settling of a flow tallies it first, so a flow of
 * many children costs an ack of one of them a count, not a read of every child.
 */
export function mustSettle(rule: string, t: FlowTally): boolean {
  return !(Number(t.waiting) > 0 && Number(t.live) > 0 && (rule !== 'fail' || Number(t.failed) === 0));
}
