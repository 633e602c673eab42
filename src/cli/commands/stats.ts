import { checkInput } from '../../api/check-input.ts';
import { OPERATION } from '../../api/operations.ts';
import { JOB_STATES, type QueueStats } from '../../core/job.ts';
import type { Overview, QueueModel } from '../../model/overview.ts';
import type { Command } from '../command.ts';
import { formatDuration, table } from '../format.ts';
import { withOperations } from '../operation.ts';
import { printResult } from '../output.ts';

/** A row of `spool stats --json`: the queue's stats and its queueing model as the overview has it. */
type StatsRow = QueueStats & { model: QueueModel | null };

/** `spool stats [queue]`: counts per state; with --json, each queue's queueing model too. */
export const stats: Command = {
  name: 'stats',
  summary: 'counts of jobs per state, per queue',
  usage: ['stats [queue]'],
  help: `Shows, for every queue (or just [queue]), how many jobs are in each state, how long
the oldest ready job has waited, and whether the queue is paused.

Output: a table with columns QUEUE, ${JOB_STATES.map((s) => s.toUpperCase()).join(', ')}, OLDEST READY, PAUSED,
and UNSERVABLE when some queue has ready jobs no live worker can take (their --requires tags
are not all among any live worker's --tags).
With --json: an array of {"queue","counts":{<state>: n},"oldestReadyAgeMs","paused","length",
"maxLength","overflow","unservable","model"} (length: the jobs ready and scheduled, which a bounded
queue's maxLength counts; and "heldUntil" for a queue with a rate limit: when its next token
is due while it holds jobs back),
where "model" is the queue's queueing model as GET /v1/overview has it (λ, μ, S, c, ρ, L, W;
see docs/queueing-model.md), or null for a queue newer than its last aggregation (at most
a second). The rates are cluster-wide, but measuring them takes a running process: read
a broker's with --url; on a store (--store) they are zeros. spool top shows them as a table.
Through a broker whose token may read only some queues, the others are left out.`,
  options: {},
  positionals: { min: 0, max: 1 },
  remote: true,
  async run(ctx) {
    const queue = ctx.args[0];
    if (queue !== undefined) checkInput(OPERATION.queueStats!, { queue }); // a bad name is exit 2 before a missing store is exit 5
    const rows = await withOperations(ctx.target, { create: false }, async (call): Promise<StatsRow[] | QueueStats[]> => {
      const counts = queue === undefined ? await call<QueueStats[]>('listQueues', {}) : [await call<QueueStats>('queueStats', { queue })];
      if (!ctx.json) return counts;
      // The counts are read fresh; the model comes from the overview, aggregated at most once a second.
      const models = new Map((await call<Overview>('overview', {})).queues.map((q) => [q.queue, q.model]));
      return counts.map((s) => ({ ...s, model: models.get(s.queue) ?? null }));
    });
    printResult(ctx.json, rows, () => {
      if (rows.length === 0) return 'no queues yet';
      // Shown only when it says something: jobs waiting for a worker with tags nobody live has.
      const unservable = rows.some((s) => s.unservable > 0);
      return table(
        ['QUEUE', ...JOB_STATES.map((s) => s.toUpperCase()), 'OLDEST READY', 'PAUSED', ...(unservable ? ['UNSERVABLE'] : [])],
        rows.map((s) => [
          s.queue,
          ...JOB_STATES.map((state) => String(s.counts[state])),
          s.counts.ready > 0 ? formatDuration(s.oldestReadyAgeMs) : '-',
          s.paused ? 'yes' : 'no',
          ...(unservable ? [String(s.unservable)] : []),
        ]),
      );
    });
  },
};
