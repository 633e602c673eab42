import { JOB_STATES, type QueueStats } from '../../core/job.ts';
import type { Command } from '../command.ts';
import { formatDuration, table } from '../format.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool stats [queue]`: counts per state. */
export const stats: Command = {
  name: 'stats',
  summary: 'counts of jobs per state, per queue',
  usage: ['stats [queue]'],
  help: `Shows, for every queue (or just [queue]), how many jobs are in each state, how long
the oldest ready job has waited, and whether the queue is paused.

Output: a table with columns QUEUE, ${JOB_STATES.map((s) => s.toUpperCase()).join(', ')}, OLDEST READY, PAUSED.
With --json: an array of {"queue","counts":{<state>: n},"oldestReadyAgeMs","paused"}.
Through a broker whose token may read only some queues, the others are left out.`,
  options: {},
  positionals: { min: 0, max: 1 },
  remote: true,
  async run(ctx) {
    const queue = ctx.args[0];
    const rows = queue === undefined
      ? await runOperation<QueueStats[]>(ctx.target, 'listQueues', {})
      : [await runOperation<QueueStats>(ctx.target, 'queueStats', { queue })];
    printResult(ctx.json, rows, () => {
      if (rows.length === 0) return 'no queues yet';
      return table(
        ['QUEUE', ...JOB_STATES.map((s) => s.toUpperCase()), 'OLDEST READY', 'PAUSED'],
        rows.map((s) => [
          s.queue,
          ...JOB_STATES.map((state) => String(s.counts[state])),
          s.counts.ready > 0 ? formatDuration(s.oldestReadyAgeMs) : '-',
          s.paused ? 'yes' : 'no',
        ]),
      );
    });
  },
};
