import type { Command } from '../command.ts';
import type { Job } from '../../core/job.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool cancel <id>`: cancel an unfinished job. */
export const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a job that has not finished',
  usage: ['cancel <id>'],
  help: `Cancels a scheduled, ready or active job. A handler running it in another process
learns at its next lease extension (its signal is aborted), and its result is refused.

Output: "cancelled <id>". With --json: {"id","state":"cancelled"}.
Exit code 3 when no job has this id; 4 when the job already finished.`,
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const id = ctx.args[0]!;
    const job = await runOperation<Job>(ctx.store, 'cancelJob', { jobId: id });
    printResult(ctx.json, { id, state: job.state }, () => `cancelled ${id}`);
  },
};
