import type { Command } from '../command.ts';
import type { Job } from '../../core/job.ts';
import { BULK_OPTIONS, bulkHelp, bulkUsage, oneOrMany, runBulk } from '../bulk.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool retry <id>`, `spool retry --queue <queue>`: redrive dead or cancelled jobs, or run scheduled ones now. */
export const retry: Command = {
  name: 'retry',
  summary: 'run a dead or cancelled job again, or a scheduled job now; or all of a queue\'s',
  usage: ['retry <id>', bulkUsage('retry')],
  help: `Makes a dead or cancelled job ready again with fresh attempts, or a scheduled job ready now.

Output: "retried <id>: now <state>". With --json: {"id","state"}.
Exit code 3 when no job has this id; 4 when the job is completed, ready or active.

${bulkHelp('retry', 'Dead, cancelled and scheduled jobs are made ready')}`,
  options: BULK_OPTIONS,
  positionals: { min: 0, max: 1 },
  remote: true,
  async run(ctx) {
    const id = oneOrMany(ctx, 'retry');
    if (id === null) return runBulk(ctx, 'retry');
    const after = await runOperation<Job>(ctx.target, 'retryJob', { jobId: id });
    printResult(ctx.json, { id, state: after.state }, () => `retried ${id}: now ${after.state}`);
  },
};
