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
