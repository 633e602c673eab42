import type { Command } from '../command.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool pause <queue>`: stop deliveries from a queue. */
export const pause: Command = {
  name: 'pause',
  summary: 'stop deliveries from a queue (adds are still accepted)',
  usage: ['pause <queue>'],
  help: `Stops deliveries from <queue>: workers get no new jobs from it (jobs already running
finish), while adds are still accepted. Every process and broker on the store obeys within
settingsRefreshMs (1 s by default). Undo with spool resume. spool stats shows the flag.

Output: "paused <queue>". With --json: {"queue","paused":true}.`,
  options: {},
  positionals: { min: 1, max: 1 },
  remote: true,
  async run(ctx) {
    const queue = ctx.args[0]!;
    await runOperation(ctx.target, 'pauseQueue', { queue });
    printResult(ctx.json, { queue, paused: true }, () => `paused ${queue}`);
  },
};
