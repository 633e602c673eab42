import { jobOrderOf, resolveQueueConfig, sameJobOrder, type JobOrder, type QueueConfig } from '../../core/queue-config.ts';
import type { CompleteItem, NewJobRow } from '../store.ts';
import type { prepareStatements } from './statements.ts';

/**
 * Scheduling policies on SQLite (see docs/scheduling.md): the sort key of a job added to a queue
 * that is not fifo, the learned run times of sjf queues, and the new keys of a queue's live jobs
 * when its policy changes. Everything runs inside the group commit's transaction.
 */

type Statements = ReturnType<typeof prepareStatements>;

const FAIR_NO_GROUP = '';

/** The sort key of a new job (null: fifo, no key); a fair job's group gets its new last tag. */
export function sortKeyOf(s: Statements, r: NewJobRow): number | null {
  const order = r.order;
  if (!order) return null;
  switch (order.policy) {
    case 'priority':
      return r.runAt - r.priority * order.agingMs;
    case 'sjf': {
      const cost = r.cost ?? (s.estimateGet.get(r.queue, r.name) as { k: number } | undefined)?.k ?? 0;
      return r.runAt + cost * order.costFactor;
    }
    case 'fair': {
      const group = r.group ?? FAIR_NO_GROUP;
      const weight = r.group === null ? 1 : order.weights[r.group] ?? 1;
      const last = (s.fairTagGet.get(r.queue, group) as { k: number } | undefined)?.k ?? 0;
      const tag = Math.max(virtualTime(s, r.queue), last) + 1 / weight;
      s.fairTagPut.run(r.queue, group, tag);
      return tag;
    }
  }
}

/** Fair queueing's virtual time: the smallest key among the queue's ready jobs, or, with none, the largest tag issued. */
function virtualTime(s: Statements, queue: string): number {
  const ready = s.minReadyKey.get(queue) as { k: number } | undefined;
  if (ready !== undefined) return ready.k;
  return (s.maxFairTag.get(queue) as { k: number | null }).k ?? 0;
}

/**
 * Folds the run time of an applied ack into its job name's estimate (sjf queues only send one).
 * An estimate is a hint: a statement that fails here (SQLite undoes it alone) must not report the
 * ack, which is applied, as refused; the name's next samples teach the estimate.
 */
export function learn(s: Statements, l: NonNullable<CompleteItem['learn']>): void {
  try {
    s.estimateLearn.run(l.queue, l.name, l.runMs, l.weightPct);
  } catch {
    // See above: the ack stands.
  }
}

/** Before a queue's settings are stored: when its order changes, gives its live jobs the keys the new order gives. */
export function rekeyOnChange(s: Statements, queue: string, storedConfig: string | undefined, next: QueueConfig): void {
  const before = storedConfig === undefined ? null : jobOrderOf(resolveQueueConfig(JSON.parse(storedConfig)));
  const after = jobOrderOf(next);
  if (sameJobOrder(before, after)) return;
  rekey(s, queue, after);
}

function rekey(s: Statements, queue: string, order: JobOrder | null): void {
  if (order === null) {
    s.rekeyNone.run(queue);
    return;
  }
  switch (order.policy) {
    case 'priority':
      s.rekeyPriority.run(queue, order.agingMs);
      return;
    case 'sjf':
      s.rekeySjf.run(queue, order.costFactor);
      return;
    case 'fair': {
      const start = (s.maxFairTag.get(queue) as { k: number | null }).k ?? 0;
      s.rekeyFair.run(queue, start, JSON.stringify(order.weights));
      s.fairTagsReset.run(queue);
      s.fairTagsFromJobs.run(queue);
      return;
    }
  }
}
