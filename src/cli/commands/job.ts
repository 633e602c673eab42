import type { Job, JobLogLine } from '../../core/job.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { deleteOne } from './delete.ts';
import { firstLine, formatDuration, formatTime, table } from '../format.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool job <id>`: one job in full; `spool job delete <id>`: delete it. */
export const job: Command = {
  name: 'job',
  summary: 'show one job: fields, payload, result, progress and attempts; its log; or delete it',
  usage: ['job <id>', 'job logs <id>', 'job delete <id>'],
  help: `Shows every field of one job, its payload, result and progress as JSON, the last
error in full, and one row per attempt (outcome, start time, duration, first line of its
error).

Output: the job as "field: value" lines. With --json: the job object as stored.
Exit code 3 when no job has this id.

job logs <id> prints the lines the job's handlers wrote with job.log(), oldest first
(a job keeps its last jobLogMax lines), one per line: time, attempt, text.
With --json: {"lines":[{"at","attempt","line"}]}. Exit code 3 when no job has this id.

job delete <id> deletes a job that is not running (scheduled, ready, completed, dead or
cancelled; cancel a running one first), the same as spool delete <id>.
Output: "deleted <id>". With --json: {"id","deleted":true}.
Exit code 3 when no job has this id; 4 when the job is active.`,
  options: {},
  positionals: { min: 1, max: 2 },
  remote: true,
  async run(ctx) {
    const sub = ctx.args[0];
    if (sub === 'delete' || sub === 'logs' || ctx.args.length > 1) {
      if (sub !== 'delete' && sub !== 'logs') throw new UsageError(`job: unexpected argument ${JSON.stringify(ctx.args[1])}; usage: spool job <id> | spool job logs <id> | spool job delete <id>`);
      if (ctx.args[1] === undefined) throw new UsageError(`job ${sub}: missing the job id; usage: spool job ${sub} <id>`);
      if (sub === 'delete') return deleteOne(ctx, ctx.args[1]);
      const logs = await runOperation<{ lines: JobLogLine[] }>(ctx.target, 'getJobLogs', { jobId: ctx.args[1] });
      return printResult(ctx.json, logs, () =>
        logs.lines.length === 0 ? 'no log lines' : logs.lines.map((l) => `${formatTime(l.at)}  #${l.attempt}  ${l.line}`).join('\n'));
    }
    const found = await runOperation<Job>(ctx.target, 'getJob', { jobId: ctx.args[0]! });
    printResult(ctx.json, found, () => renderJob(found));
  },
};

function renderJob(j: Job): string {
  const fields: [string, string][] = [
    ['id', j.id],
    ['queue', j.queue],
    ['name', j.name],
    ['group', j.group ?? '-'],
    ['state', j.state + (j.deadReason ? ` (${j.deadReason})` : '')],
    ['priority', String(j.priority)],
    ['attempt', `${j.attempt} of ${j.maxAttempts}`],
    ['stalls', `${j.stalls} of ${j.maxStalls}`],
    ['run at', formatTime(j.runAt)],
    ['created', formatTime(j.createdAt)],
    ['updated', formatTime(j.updatedAt)],
    ['finished', formatTime(j.finishedAt)],
    ['lease', j.leaseExpiresAt === null ? '-' : `token ${j.leaseToken}, expires ${formatTime(j.leaseExpiresAt)}`],
    ['timeout', j.timeoutMs > 0 ? formatDuration(j.timeoutMs) : 'none'],
    ['progress', j.progress === null ? '-' : JSON.stringify(j.progress)],
    // Only for a job that requires resource tags: other jobs' output stays as it was.
    ...(j.requires.length > 0 ? [['requires', j.requires.join(',')] as [string, string]] : []),
  ];
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  const lines = fields.map(([k, v]) => `${(k + ':').padEnd(width)} ${v}`);
  lines.push('', 'payload:', indent(JSON.stringify(j.payload, null, 2)));
  if (j.result !== null) lines.push('', 'result:', indent(JSON.stringify(j.result, null, 2)));
  if (j.lastError) lines.push('', 'last error:', indent(j.lastError));
  lines.push('', 'attempts:');
  if (j.history.length === 0) lines.push('  none yet');
  else {
    const rows = j.history.map((h) => [
      String(h.attempt), h.outcome, formatTime(h.startedAt), formatDuration(h.endedAt - h.startedAt), firstLine(h.error),
    ]);
    lines.push(indent(table(['#', 'OUTCOME', 'STARTED', 'TOOK', 'ERROR'], rows)));
  }
  return lines.join('\n');
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}
