import type { Command, CommandContext } from '../command.ts';
import { BULK_OPTIONS, bulkHelp, bulkUsage, oneOrMany, runBulk } from '../bulk.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool delete <id>`, `spool delete --queue <queue>`: delete jobs that are not running. */
export const del: Command = {
  name: 'delete',
  summary: 'delete a job that is not running; or those of a queue',
  usage: ['delete <id>', bulkUsage('delete')],
  help: `Deletes a job that is not running: scheduled, ready, completed, dead or cancelled
(cancel a running job first). The same as spool job delete <id>. To delete a queue with its
settings, see spool queue delete.

Output: "deleted <id>". With --json: {"id","deleted":true}.
Exit code 3 when no job has this id; 4 when the job is active.

${bulkHelp('delete', 'Every job that is not active is deleted')}`,
  options: BULK_OPTIONS,
  positionals: { min: 0, max: 1 },
  remote: true,
  async run(ctx) {
    const id = oneOrMany(ctx, 'delete');
    if (id === null) return runBulk(ctx, 'delete');
    return deleteOne(ctx, id);
  },
};

/** Deletes one job and says so; shared with `spool job delete <id>`. */
export async function deleteOne(ctx: CommandContext, id: string): Promise<void> {
  const r = await runOperation<{ id: string; deleted: true }>(ctx.target, 'deleteJob', { jobId: id });
  printResult(ctx.json, r, () => `deleted ${r.id}`);
}
