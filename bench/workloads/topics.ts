import { benchPayload } from '../payload.ts';
import { W1 } from './enqueue.ts';
import { check, count, type RunContext, type RunFigures } from './run-context.ts';

/**
 * The W1 topic runs (catalog.ts, TOPIC_RUNS): W1's shape (one call at a time per producer,
 * `W1.inFlightMax` in flight) with `publish` to a topic instead of `add`. `W1-topic`: the topic
 * is bound to one queue, `publishes` = W1's jobs. `W1-fanout10`: bound to ten queues, a tenth
 * as many publishes, so both write as many jobs as W1. The figure counts copies (jobs written)
 * per second, to compare with W1's jobs per second in the same run.
 */
export const TOPIC_RUN_SHAPES = {
  'W1-topic': { queues: 1, publishes: W1.jobs },
  'W1-fanout10': { queues: 10, publishes: W1.jobs / 10 },
} as const;

/** The topic published to, and the pattern that binds it (a wildcard: the matcher does real work). */
const TOPIC = 'orders.eu.created';
const PATTERN = 'orders.*.created';

export async function publishTopic(ctx: RunContext, id: keyof typeof TOPIC_RUN_SHAPES, publishes: number): Promise<RunFigures> {
  const { target } = ctx;
  const { queues } = TOPIC_RUN_SHAPES[id];
  check(target.bindTopic !== undefined && target.publish !== undefined && target.extraQueueWaiting !== undefined, `${target.id} has no topics for ${id}`);
  await target.bindTopic(PATTERN, queues - 1);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < publishes) await target.publish!(TOPIC, benchPayload(next++));
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: W1.inFlightMax }, lane));
  const elapsedMs = performance.now() - startedAt;
  const counts = await target.jobCounts();
  check(counts.waiting === publishes, `expected ${count(publishes)} waiting jobs in the bench queue after ${id}, found ${count(counts.waiting)}`);
  for (const [i, n] of (await target.extraQueueWaiting(queues - 1)).entries()) {
    check(n === publishes, `expected ${count(publishes)} waiting jobs in bench-${i + 1} after ${id}, found ${count(n)}`);
  }
  return { [id]: ((publishes * queues) / elapsedMs) * 1000 };
}
