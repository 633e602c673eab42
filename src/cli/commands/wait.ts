import { checkInput } from '../../api/check-input.ts';
import { OPERATION } from '../../api/operations.ts';
import type { DrainedReply } from '../../api/operations/queues.ts';
import { DrainTimeoutError } from '../../core/errors.ts';
import { checkLimit, LIMITS } from '../../core/limits.ts';
import { durationOption } from '../args.ts';
import type { Command } from '../command.ts';
import { formatDuration } from '../format.ts';
import { withOperations } from '../operation.ts';
import { printResult } from '../output.ts';

/**
 * Longest wait one call asks for: a broker's default receiveWaitMaxMs (it refuses longer long
 * polls), so a wait of any length is a series of calls, each answered within it.
 */
const CALL_WAIT_MS = LIMITS.receiveWaitMaxMs.default;

/** `spool wait <queue>`: exits 0 once the queue is drained, 6 when --timeout runs out first. */
export const wait: Command = {
  name: 'wait',
  summary: 'wait until a queue has no job ready, scheduled or active',
  usage: ['wait <queue> [--timeout <duration>]'],
  help: `Waits until <queue> has no job ready, scheduled or active (every job added so far has
completed, died or been cancelled), then exits 0: for scripts and CI steps that add jobs and
go on once they have run.

Options:
  --timeout <duration>  how long to wait: ms, or with a unit, e.g. 90s, 15m, 1h (default
                        ${formatDuration(LIMITS.drainedWaitMs.default)}, at most ${formatDuration(LIMITS.drainedWaitMs.max)}). Past it the command exits 6 and
                        says how many jobs were still ready, scheduled and active.

Output: "queue <queue> drained"; with --json, {"queue","drained":true}. A queue no job and
no setting made is exit code 3. On a store, jobs are run (and expired ones swept) by the
processes serving it (spool serve, spool work): this command only watches the counts.`,
  options: { timeout: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  remote: true,
  async run(ctx) {
    const queue = ctx.args[0]!;
    const timeoutMs = checkLimit('drainedWaitMs', durationOption(ctx.options, 'timeout'), '--timeout');
    checkInput(OPERATION.queueDrained!, { queue }); // a bad name is exit 2 before a missing store is exit 5
    const deadline = Date.now() + timeoutMs;
    // The engine's timers do not keep a process alive (a script that only adds jobs exits when
    // done), and on a store they are all this wait has pending: hold the process open meanwhile.
    const keepAlive = setInterval(() => {}, 60_000);
    const last = await withOperations(ctx.target, { create: false }, async (call) => {
      for (;;) {
        const waitMs = Math.max(0, Math.min(deadline - Date.now(), CALL_WAIT_MS));
        const reply = await call<DrainedReply>('queueDrained', { queue, waitMs });
        if (reply.drained || Date.now() >= deadline) return reply;
      }
    }).finally(() => clearInterval(keepAlive));
    if (!last.drained) throw new DrainTimeoutError(queue, timeoutMs, { ready: last.ready, scheduled: last.scheduled, active: last.active });
    printResult(ctx.json, { queue, drained: true }, () => `queue ${queue} drained`);
  },
};
