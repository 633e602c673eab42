import type { Command } from '../command.ts';
import type { Job } from '../../core/job.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool retry <id>`: redrive a dead or cancelled job, or run a scheduled one now. */
export const retry: Command = {
  name: 'retry',
  summary: 'run a dead or cancelled job again, or a scheduled job now',
  usage: ['retry <id>'],
  help: `Makes a dead or cancelled job ready again with fresh attempts, or a scheduled job ready now.

Output: "retried <id>: now <state>". With --json: {"id","state"}.
Exit code 3 when no job has this id; 4 when the job is completed, ready or active.`,
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const id = ctx.args[0]!;
    const after = await runOperation<Job>(ctx.store, 'retryJob', { jobId: id });
    printResult(ctx.json, { id, state: after.state }, () => `retried ${id}: now ${after.state}`);
  },
};
