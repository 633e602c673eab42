import type { Command } from '../command.ts';
import type { Job } from '../../core/job.ts';
import { BULK_OPTIONS, bulkHelp, bulkUsage, oneOrMany, runBulk } from '../bulk.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool cancel <id>`, `spool cancel --queue <queue>`: cancel unfinished jobs. */
export const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a job that has not finished; or those of a queue',
  usage: ['cancel <id>', bulkUsage('cancel')],
  help: `Cancels a scheduled, ready or active job. A handler running it in another process
learns at its next lease extension (its signal is aborted), and its result is refused.

Output: "cancelled <id>". With --json: {"id","state":"cancelled"}.
Exit code 3 when no job has this id; 4 when the job already finished.

${bulkHelp('cancel', 'Scheduled, ready and active jobs are cancelled')}`,
  options: BULK_OPTIONS,
  positionals: { min: 0, max: 1 },
  remote: true,
  async run(ctx) {
    const id = oneOrMany(ctx, 'cancel');
    if (id === null) return runBulk(ctx, 'cancel');
    const job = await runOperation<Job>(ctx.target, 'cancelJob', { jobId: id });
    printResult(ctx.json, { id, state: job.state }, () => `cancelled ${id}`);
  },
};
