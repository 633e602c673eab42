import type { Command } from '../command.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool resume <queue>`: resume deliveries from a paused queue. */
export const resume: Command = {
  name: 'resume',
  summary: 'resume deliveries from a paused queue',
  usage: ['resume <queue>'],
  help: `Resumes deliveries from <queue> after spool pause. Resuming a queue that is not
paused does nothing and succeeds.

Output: "resumed <queue>". With --json: {"queue","paused":false}.`,
  options: {},
  positionals: { min: 1, max: 1 },
  remote: true,
  async run(ctx) {
    const queue = ctx.args[0]!;
    await runOperation(ctx.target, 'resumeQueue', { queue });
    printResult(ctx.json, { queue, paused: false }, () => `resumed ${queue}`);
  },
};
