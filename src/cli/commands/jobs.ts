import type { Job } from '../../core/job.ts';
import { integerOption, stringOption } from '../args.ts';
import type { Command } from '../command.ts';
import { firstLine, progressText, formatTime, table } from '../format.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** Jobs per page when --limit is not given: a screenful. */
export const JOBS_DEFAULT_LIMIT = 50;
const ERROR_COLUMN_CHARS = 48;

/** `spool jobs <queue>`: one page of a queue's jobs, with a cursor for the next. */
export const jobs: Command = {
  name: 'jobs',
  summary: 'list the jobs of a queue, a page at a time',
  usage: ['jobs <queue> [--state <state>] [--name <name>] [--limit <n>] [--after <id>]'],
  help: `Lists a queue's jobs in creation order.

Options:
  --state <state>   only jobs in this state: scheduled, ready, active, completed, dead, cancelled
  --name <name>     only jobs with this name
  --limit <n>       jobs per page, 1–1000 (default ${JOBS_DEFAULT_LIMIT})
  --after <id>      the cursor printed under the previous page: list the jobs after this id

Output: a table (ID, STATE, NAME, PRI, ATTEMPT as attempt/maxAttempts, CREATED, UPDATED
in local time, and the first line of the last error), then the command for the next page
when the page is full. With --json: {"jobs":[<job>…],"next":<id or null>}; pass "next"
as --after to get the next page. A full page always gives a cursor, so the last page may be empty.`,
  options: {
    state: { type: 'string' },
    name: { type: 'string' },
    limit: { type: 'string' },
    after: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  remote: true,
  async run(ctx) {
    const queue = ctx.args[0]!;
    const state = stringOption(ctx.options, 'state');
    const name = stringOption(ctx.options, 'name');
    const limit = integerOption(ctx.options, 'limit') ?? JOBS_DEFAULT_LIMIT;
    const after = stringOption(ctx.options, 'after');
    const input = { queue, limit, ...(state === undefined ? {} : { state }), ...(name === undefined ? {} : { name }), ...(after === undefined ? {} : { after }) };
    const { jobs: list, next } = await runOperation<{ jobs: Job[]; next: string | null }>(ctx.target, 'listJobs', input);
    printResult(ctx.json, { jobs: list, next }, () => {
      if (list.length === 0) return after === undefined ? `no ${state ?? ''}${state ? ' ' : ''}jobs in ${queue}${name === undefined ? '' : ` with name ${name}`}` : 'no more jobs';
      const rows = list.map((j) => [
        j.id, j.state, j.name, String(j.priority), `${j.attempt}/${j.maxAttempts}`,
        formatTime(j.createdAt), formatTime(j.updatedAt), progressText(j.progress), firstLine(j.lastError).slice(0, ERROR_COLUMN_CHARS),
      ]);
      let text = table(['ID', 'STATE', 'NAME', 'PRI', 'ATTEMPT', 'CREATED', 'UPDATED', 'PROGRESS', 'LAST ERROR'], rows);
      if (next) {
        const stateFlag = state ? ` --state ${state}` : '';
        const nameFlag = name === undefined ? '' : ` --name ${shellWord(name)}`;
        text += `\n\nnext page: spool jobs ${queue}${stateFlag}${nameFlag} --limit ${limit} --after ${next}`;
      }
      return text;
    });
  },
};

/** `word` as the shell reads it back: quoted unless it is plain. */
function shellWord(word: string): string {
  return /^[\w.:@%+=,/-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
