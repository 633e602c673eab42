import { checkInput } from '../../api/check-input.ts';
import { OPERATION } from '../../api/operations.ts';
import type { JobWaitReply } from '../../api/operations/jobs.ts';
import { JobFailedError, JobWaitTimeoutError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { checkLimit, LIMITS } from '../../core/limits.ts';
import { durationOption, integerOption, stringOption } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { formatDuration } from '../format.ts';
import { withOperations } from '../operation.ts';
import { printResult } from '../output.ts';

/** Longest wait one call asks for: a broker's default receiveWaitMaxMs (it refuses longer long polls). */
const CALL_WAIT_MS = LIMITS.receiveWaitMaxMs.default;

/** `spool request <queue> <json>`: adds a job, waits for it to finish and prints its result. */
export const request: Command = {
  name: 'request',
  summary: 'add a job and print its result once a worker has completed it',
  usage: ['request <queue> <json> [--timeout <duration>] [--priority <n>] [--name <s>]'],
  help: `Request/reply on the command line: adds a job whose payload is <json>, waits for it to
finish and prints the result its handler returned, as JSON. The jobs are run by the processes
serving the queue (spool serve, spool work, your own workers).

Options:
  --timeout <duration>  how long to wait: ms, or with a unit, e.g. 90s, 15m, 1h (default
                        ${formatDuration(LIMITS.requestWaitMs.default)}, at most ${formatDuration(LIMITS.requestWaitMs.max)}). Past it the command exits 6 and says
                        whether the job had started; the job is not cancelled.
  --priority <n>        the job's priority (higher runs first)
  --name <s>            the job's name (default "default")

Output: the result as JSON (with --json, the finished job). A job that went dead or was
cancelled is exit code 4, with its last error.`,
  options: { timeout: { type: 'string' }, priority: { type: 'string' }, name: { type: 'string' } },
  positionals: { min: 2, max: 2 },
  remote: true,
  async run(ctx) {
    const [queue, text] = ctx.args as [string, string];
    const timeoutMs = checkLimit('requestWaitMs', durationOption(ctx.options, 'timeout'), '--timeout');
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`the payload is not valid JSON (${(err as Error).message}); quote it for the shell, e.g. '{"n":1}'`, { cause: err });
    }
    const priority = integerOption(ctx.options, 'priority');
    const name = stringOption(ctx.options, 'name');
    const addInput = { queue, payload, ...(priority === undefined ? {} : { priority }), ...(name === undefined ? {} : { name }) };
    checkInput(OPERATION.addJobs!, addInput); // a bad argument is exit 2 before a missing store is exit 5
    // The engine's timers do not keep a process alive: hold it open while the wait is pending.
    const keepAlive = setInterval(() => {}, 60_000);
    const job = await withOperations(ctx.target, { create: true }, async (call) => {
      const added = await call<Job>('addJobs', addInput);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const waitMs = Math.max(0, Math.min(deadline - Date.now(), CALL_WAIT_MS));
        const reply = await call<JobWaitReply>('waitJob', { jobId: added.id, waitMs });
        if (reply.finished) return reply.job;
        if (Date.now() >= deadline) throw new JobWaitTimeoutError(added.id, reply.job.state, timeoutMs);
      }
    }).finally(() => clearInterval(keepAlive));
    if (job.state !== 'completed') throw new JobFailedError(job.id, job.state, job.lastError);
    printResult(ctx.json, job, () => JSON.stringify(job.result ?? null));
  },
};
