import type { Job } from '../../core/job.ts';
import { integerOption, stringOption } from '../args.ts';
import { UsageError } from '../exit-codes.ts';
import type { Command, OptionValues } from '../command.ts';
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
  usage: ['jobs <queue> [--state <state>] [--name <name>] [--group <group>] [--created-after <time>] [--created-before <time>] [--where <path>=<value>] [--limit <n>] [--after <id>]'],
  help: `Lists a queue's jobs in creation order.

Options:
  --state <state>   only jobs in this state: scheduled, ready, active, completed, dead, cancelled
  --name <name>     only jobs with this name
  --group <group>   only jobs of this group (the group they were added with)
  --created-after <time>    only jobs created at or after this time: ISO 8601
                    (2026-01-31T12:00:00Z) or Unix milliseconds
  --created-before <time>   only jobs created at or before this time (inclusive)
  --where <path>=<value>    only jobs whose payload field equals the value, e.g.
                    --where user.id=12345: the path is object keys joined by dots; the
                    value is JSON when it parses (12345 a number, '"12345"' a string,
                    true, null), else the text as a string. A bounded search: each call
                    examines at most searchScanMax jobs, so a page may be short or empty
                    while there is a next page: follow it until none is printed
  --limit <n>       jobs per page, 1–1000 (default ${JOBS_DEFAULT_LIMIT})
  --after <id>      the cursor printed under the previous page: list the jobs after this id

Output: a table (ID, STATE, NAME, GROUP when a job of the page has one, PRI, ATTEMPT as
attempt/maxAttempts, CREATED, UPDATED in local time, and the first line of the last error), then the command for the next page
when the page is full. With --json: {"jobs":[<job>…],"next":<id or null>}; pass "next"
as --after to get the next page. A full page always gives a cursor, so the last page may be empty.`,
  options: {
    state: { type: 'string' },
    name: { type: 'string' },
    group: { type: 'string' },
    limit: { type: 'string' },
    after: { type: 'string' },
    'created-after': { type: 'string' },
    'created-before': { type: 'string' },
    where: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  remote: true,
  async run(ctx) {
    const queue = ctx.args[0]!;
    const state = stringOption(ctx.options, 'state');
    const name = stringOption(ctx.options, 'name');
    const group = stringOption(ctx.options, 'group');
    const limit = integerOption(ctx.options, 'limit') ?? JOBS_DEFAULT_LIMIT;
    const after = stringOption(ctx.options, 'after');
    const createdAfter = timeOption(ctx.options, 'created-after');
    const createdBefore = timeOption(ctx.options, 'created-before');
    const where = whereOption(ctx.options);
    const filters = {
      ...(group === undefined ? {} : { group }),
      ...(createdAfter === undefined ? {} : { createdAfter }), ...(createdBefore === undefined ? {} : { createdBefore }),
      ...(where === undefined ? {} : { payloadPath: where.path, payloadEquals: where.value }),
    };
    const input = { queue, limit, ...(state === undefined ? {} : { state }), ...(name === undefined ? {} : { name }), ...filters, ...(after === undefined ? {} : { after }) };
    const { jobs: list, next } = await runOperation<{ jobs: Job[]; next: string | null }>(ctx.target, 'listJobs', input);
    printResult(ctx.json, { jobs: list, next }, () => {
      if (list.length === 0 && next === null) return after === undefined ? `no ${state ?? ''}${state ? ' ' : ''}jobs in ${queue}${name === undefined ? '' : ` with name ${name}`}${group === undefined ? '' : ` in group ${group}`}` : 'no more jobs';
      // The GROUP column only when a job of the page has one.
      const grouped = list.some((j) => j.group !== null);
      const rows = list.map((j) => [
        j.id, j.state, j.name, ...(grouped ? [j.group ?? '-'] : []), String(j.priority), `${j.attempt}/${j.maxAttempts}`,
        formatTime(j.createdAt), formatTime(j.updatedAt), progressText(j.progress), firstLine(j.lastError).slice(0, ERROR_COLUMN_CHARS),
      ]);
      let text = table(['ID', 'STATE', 'NAME', ...(grouped ? ['GROUP'] : []), 'PRI', 'ATTEMPT', 'CREATED', 'UPDATED', 'PROGRESS', 'LAST ERROR'], rows);
      if (list.length === 0) text = 'no matches among the jobs examined so far';
      if (next) {
        const flags = [
          state ? ` --state ${state}` : '', name === undefined ? '' : ` --name ${shellWord(name)}`,
          group === undefined ? '' : ` --group ${shellWord(group)}`,
          createdAfter === undefined ? '' : ` --created-after ${createdAfter}`, createdBefore === undefined ? '' : ` --created-before ${createdBefore}`,
          where === undefined ? '' : ` --where ${shellWord(`${where.path}=${where.value}`)}`,
        ].join('');
        text += `\n\nnext page: spool jobs ${queue}${flags} --limit ${limit} --after ${next}`;
      }
      return text;
    });
  },
};

/** `word` as the shell reads it back: quoted unless it is plain. */
function shellWord(word: string): string {
  return /^[\w.:@%+=,/-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A time flag: Unix milliseconds (digits), or an ISO 8601 date-time. Bounds are the engine's.
 * @throws UsageError naming the flag for anything else.
 */
function timeOption(options: OptionValues, name: string): number | undefined {
  const value = stringOption(options, name);
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} must be an ISO 8601 time (2026-01-31T12:00:00Z) or Unix milliseconds (got ${JSON.stringify(value)})`);
  return ms;
}

/** `--where path=value`: split at the first `=`; the value is sent as text (the broker reads it as JSON if it parses). */
function whereOption(options: OptionValues): { path: string; value: string } | undefined {
  const value = stringOption(options, 'where');
  if (value === undefined) return undefined;
  const at = value.indexOf('=');
  if (at <= 0) throw new UsageError(`--where must be <path>=<value>, e.g. --where user.id=12345 (got ${JSON.stringify(value)})`);
  return { path: value.slice(0, at), value: value.slice(at + 1) };
}
