import type { Command } from '../command.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool purge <queue>`: delete every waiting job of a queue. */
export const purge: Command = {
  name: 'purge',
  summary: 'delete every waiting (ready or scheduled) job of a queue',
  usage: ['purge <queue>'],
  help: `Deletes every ready and scheduled job of <queue>, without asking. Jobs being worked on
(active) and finished jobs stay; the queue and its settings stay too. To remove jobs by
state or name, see spool delete --queue; to remove the queue, spool queue delete.

Output: "purged N waiting jobs from <queue>". With --json: {"queue","purged":N}.`,
  options: {},
  positionals: { min: 1, max: 1 },
  remote: true,
  async run(ctx) {
    const queue = ctx.args[0]!;
    const { purged } = await runOperation<{ purged: number }>(ctx.target, 'purgeQueue', { queue });
    printResult(ctx.json, { queue, purged }, () => `purged ${purged} waiting ${purged === 1 ? 'job' : 'jobs'} from ${queue}`);
  },
};
