/**
 * The two forms of `spool retry|cancel|delete`: one job by id, or every job of a queue that
 * matches a filter (`--queue q [--state s] [--name n] [--group g]`), batch after batch of the `bulkJobs`
 * operation until its cursor runs out.
 */
import type { ParseArgsOptionDescriptor } from 'node:util';
import type { BulkAction, BulkResult } from '../api/contract.ts';
import { isJobId } from '../core/ids.ts';
import type { QueueStats } from '../core/job.ts';
import { LIMITS } from '../core/limits.ts';
import { QUEUE_NAME_PATTERN } from '../core/validate.ts';
import { integerOption, stringOption } from './args.ts';
import type { CommandContext } from './command.ts';
import { UsageError } from './exit-codes.ts';
import { Progress } from './format.ts';
import { withOperations, type Call } from './operation.ts';
import { printResult } from './output.ts';

/** The options of the bulk form. */
export const BULK_OPTIONS = {
  queue: { type: 'string' },
  state: { type: 'string' },
  name: { type: 'string' },
  group: { type: 'string' },
  batch: { type: 'string' },
} as const satisfies Record<string, ParseArgsOptionDescriptor>;

const PAST: Readonly<Record<BulkAction, string>> = { retry: 'retried', cancel: 'cancelled', delete: 'deleted' };
const DOES: Readonly<Record<BulkAction, string>> = { retry: 'retries', cancel: 'cancels', delete: 'deletes' };

/** The usage line of the bulk form. */
export function bulkUsage(action: BulkAction): string {
  return `${action} --queue <queue> [--state <state>] [--name <name>] [--group <group>] [--batch <n>]`;
}

/** The help text of the bulk form; `changes` says which states the action takes. */
export function bulkHelp(action: BulkAction, changes: string): string {
  return `With --queue instead of an id, ${DOES[action]} every job of <queue> that matches
--state, --name and --group (all optional: without them, every job of the queue), in batches, until
none is left. ${changes};
the other matched jobs are counted as skipped.

  --queue <queue>   the queue whose jobs to ${action}
  --state <state>   only jobs in this state: scheduled, ready, active, completed, dead, cancelled
  --name <name>     only jobs with this name
  --group <group>   only jobs of this group (the group they were added with)
  --batch <n>       jobs per call, 1–${LIMITS.bulkBatchMax.max} (default ${LIMITS.bulkBatchMax.default})

It asks nothing. When stderr is a terminal, a progress line is redrawn there.
Output: "${PAST[action]} N [<state>] jobs of <queue> [with name <name>] [in group <group>] (M matched, K skipped, B batches)".
With --json: {"matched","changed","skipped"}, the totals over every batch.`;
}

/**
 * Which form the command line asked for.
 * @returns the job id, or null for the bulk form (`--queue`).
 * @throws UsageError for both forms at once, neither, a filter flag without `--queue`, or an
 *   argument that is not a job id (naming the bulk form, in case a queue was meant).
 */
export function oneOrMany(ctx: CommandContext, action: BulkAction): string | null {
  const id = ctx.args[0];
  const queue = stringOption(ctx.options, 'queue');
  if (id !== undefined && queue !== undefined) {
    throw new UsageError(`${action}: give a job id or --queue, not both: spool ${action} <id> | spool ${bulkUsage(action)}`);
  }
  if (id === undefined && queue === undefined) {
    throw new UsageError(`${action}: missing the job id, or --queue for the jobs of a queue: spool ${action} <id> | spool ${bulkUsage(action)}`);
  }
  if (id !== undefined) {
    const stray = ['state', 'name', 'group', 'batch'].find((o) => ctx.options[o] !== undefined);
    if (stray) throw new UsageError(`${action}: --${stray} goes with --queue (spool ${bulkUsage(action)}), not with a job id`);
    if (!isJobId(id)) {
      const queueLike = new RegExp(QUEUE_NAME_PATTERN).test(id);
      throw new UsageError(
        `${action}: ${JSON.stringify(id)} is not a job id (a UUID, as spool add prints it); ` +
          `for the jobs of a queue: spool ${action} --queue ${queueLike ? id : '<queue>'}${action === 'delete' && queueLike ? `; for the queue itself: spool queue delete ${id}` : ''}`,
      );
    }
    return id;
  }
  return null;
}

/** The totals of a bulk pass. */
export interface BulkTotals {
  matched: number;
  changed: number;
  skipped: number;
}

/**
 * The bulk form: calls `bulkJobs` batch after batch, passing `next` back as `after` until it
 * is null, then prints the totals.
 */
export async function runBulk(ctx: CommandContext, action: BulkAction): Promise<void> {
  const queue = stringOption(ctx.options, 'queue')!;
  const state = stringOption(ctx.options, 'state');
  const name = stringOption(ctx.options, 'name');
  const group = stringOption(ctx.options, 'group');
  const limit = integerOption(ctx.options, 'batch');
  if (limit !== undefined && (limit < 1 || limit > LIMITS.bulkBatchMax.max)) {
    throw new UsageError(`--batch must be from 1 to ${LIMITS.bulkBatchMax.max} (got ${limit})`);
  }
  const filter = { queue, ...(state === undefined ? {} : { state }), ...(name === undefined ? {} : { name }), ...(group === undefined ? {} : { group }) };
  const showProgress = process.stderr.isTTY === true && !ctx.json;
  const totals: BulkTotals = { matched: 0, changed: 0, skipped: 0 };
  let batches = 0;
  await withOperations(ctx.target, { create: false }, async (call) => {
    const total = showProgress ? await estimate(call, queue, state) : null;
    const progress = new Progress(process.stderr, showProgress);
    try {
      let after: string | null = null;
      do {
        const input: Record<string, unknown> = { ...filter, action, ...(after === null ? {} : { after }), ...(limit === undefined ? {} : { limit }) };
        const r: BulkResult = await call<BulkResult>('bulkJobs', input);
        batches++;
        totals.matched += r.matched;
        totals.changed += r.changed;
        totals.skipped += r.skipped;
        progress.update(totals.matched, total ? totals.matched / total : null);
        after = r.next;
      } while (after !== null);
    } finally {
      progress.done();
    }
  });
  const which = `${state === undefined ? '' : ` ${state}`} ${totals.changed === 1 ? 'job' : 'jobs'} of ${queue}${name === undefined ? '' : ` with name ${name}`}${group === undefined ? '' : ` in group ${group}`}`;
  printResult(ctx.json, totals, () =>
    `${PAST[action]} ${totals.changed}${which} (${totals.matched} matched, ${totals.skipped} skipped, ${batches} ${batches === 1 ? 'batch' : 'batches'})`,
  );
}

/** How many jobs the pass may match, for the progress bar: the queue's count in `state` (or all). Null when unknown. */
async function estimate(call: Call, queue: string, state: string | undefined): Promise<number | null> {
  try {
    const s = await call<QueueStats>('queueStats', { queue });
    const counts = s.counts as Record<string, number>;
    const n = state === undefined ? Object.values(counts).reduce((a, b) => a + b, 0) : (counts[state] ?? 0);
    return n > 0 ? n : null;
  } catch {
    return null; // the bar is a nicety: the pass itself says what is wrong
  }
}
